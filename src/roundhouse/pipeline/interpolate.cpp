#include "roundhouse/pipeline/interpolate.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "roundhouse/util/strings.h"

namespace rh::pipeline {

namespace {

struct Match {
  size_t begin, end;  // of "${...}"
  std::string inner;
};

std::vector<Match> matches(const std::string& s) {
  std::vector<Match> out;
  size_t i = 0;
  while ((i = s.find("${", i)) != std::string::npos) {
    if (i > 0 && s[i - 1] == '\\') {
      i += 2;
      continue;
    }
    size_t close = s.find('}', i + 2);
    if (close == std::string::npos)
      break;
    out.push_back({i, close + 1, s.substr(i + 2, close - i - 2)});
    i = close + 1;
  }
  return out;
}

std::string type_name(const Json& v) {
  if (v.is_object())
    return "dict";
  if (v.is_array())
    return "list";
  return v.type_name();
}

void flatten(const Json& v, const std::string& prefix,
             std::vector<std::pair<std::string, Json>>& out) {
  if (v.is_object() && (!v.empty() || prefix.empty())) {
    for (const auto& [k, x] : v.items())
      flatten(x, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  out.emplace_back(prefix, v);
}

Result<std::string> dict_as_flags(const Json& d) {
  std::vector<std::pair<std::string, Json>> flat;
  flatten(d, "", flat);
  std::string out;
  for (const auto& [k, v] : flat) {
    if (v.is_boolean()) {
      if (v.get<bool>())
        out += "--" + k + " ";
    } else if (v.is_string()) {
      out += "--" + k + " " + shell_quote(v.get<std::string>()) + " ";
    } else if (v.is_array()) {
      for (size_t n = 0; n < v.size(); ++n) {
        const Json& i = v[n];
        if (i.is_array() || i.is_object())
          return make_error(ErrorCode::invalid_argument,
                            "Cannot interpolate nested iterable in '" + k + "'");
        std::string text = i.is_string() ? shell_quote(i.get<std::string>()) : python_str(i);
        out += n > 0 ? text + " " : "--" + k + " " + text + " ";
      }
    } else {
      out += "--" + k + " " + python_str(v) + " ";
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

bool primitive(const Json& v) {
  return !v.is_object() && !v.is_array();
}

}  // namespace

bool has_interpolation(const std::string& s) {
  return !matches(s).empty();
}

std::string python_str(const Json& v) {
  if (v.is_null())
    return "None";
  if (v.is_boolean())
    return v.get<bool>() ? "true" : "false";
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_number_integer())
    return v.dump();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isnan(d))
      return "nan";
    if (std::isinf(d))
      return d > 0 ? "inf" : "-inf";
    // Python's repr: the shortest digits that read back, fixed notation for
    // exponents -4..15, else d.ddde+XX.
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, r.ptr);
    size_t e = sci.find('e');
    std::string mant = sci.substr(0, e);
    int exp = std::atoi(sci.c_str() + e + 1);
    bool neg = mant[0] == '-';
    if (neg)
      mant.erase(0, 1);
    std::string digits;
    for (char c : mant)
      if (c != '.')
        digits += c;
    std::string out;
    if (exp >= -4 && exp < 16) {
      if (exp < 0) {
        out = "0." + std::string(size_t(-exp - 1), '0') + digits;
      } else if (size_t(exp + 1) >= digits.size()) {
        out = digits + std::string(size_t(exp + 1) - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, size_t(exp + 1)) + "." + digits.substr(size_t(exp + 1));
      }
    } else {
      out = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
      std::snprintf(buf, sizeof buf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
      out += buf;
    }
    return (neg ? "-" : "") + out;
  }
  return v.dump();
}

Result<Json> select(const Json& vars, const std::string& expr) {
  std::string norm;
  for (char c : expr) {
    if (c == '[')
      norm += '.';
    else if (c != ']')
      norm += c;
  }
  std::string_view t = trim(norm);
  if (t.empty())
    return make_error(ErrorCode::invalid_argument, "empty expression ${}");
  const Json* at = &vars;
  for (const auto& part : split(t, '.')) {
    if (part.empty())
      return make_error(ErrorCode::invalid_argument, "malformed expression ${" + expr + "}");
    if (at->is_object() && at->contains(part)) {
      at = &(*at)[part];
    } else if (at->is_array() && !part.empty() &&
               std::all_of(part.begin(), part.end(), ::isdigit) && std::stoull(part) < at->size()) {
      at = &(*at)[std::stoull(part)];
    } else {
      return make_error(ErrorCode::not_found, "Could not find '" + std::string(t) + "'");
    }
  }
  return *at;
}

Result<Json> resolve(const Json& v, const Json& vars, const std::string& field) {
  if (v.is_object()) {
    Json out = Json::object();
    for (const auto& [k, x] : v.items()) {
      // Keys are templated too (`- "metrics/${key}.json": {cache: false}`).
      RH_TRY_ASSIGN(Json key, resolve(Json(k), vars, field));
      RH_TRY_ASSIGN(out[key.is_string() ? key.get<std::string>() : python_str(key)],
                    resolve(x, vars, field));
    }
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& x : v) {
      RH_TRY_ASSIGN(Json r, resolve(x, vars, field));
      out.push_back(std::move(r));
    }
    return out;
  }
  if (!v.is_string())
    return v;
  const std::string s = v.get<std::string>();
  auto ms = matches(s);
  auto check = [&](const Json& x) -> Status {
    if (primitive(x) || field.find("foreach") != std::string::npos)
      return {};
    if (x.is_object() && field == "cmd")
      return {};
    return make_error(ErrorCode::invalid_argument,
                      "Cannot interpolate data of type '" + type_name(x) + "'");
  };
  if (ms.size() == 1 && ms[0].begin == 0 && ms[0].end == s.size()) {
    RH_TRY_ASSIGN(Json x, select(vars, ms[0].inner));
    RH_TRY(check(x));
    if (x.is_object() && field == "cmd") {
      RH_TRY_ASSIGN(std::string flags, dict_as_flags(x));
      return flags;
    }
    return x;
  }
  std::string out;
  size_t at = 0;
  for (const auto& m : ms) {
    RH_TRY_ASSIGN(Json x, select(vars, m.inner));
    RH_TRY(check(x));
    out += s.substr(at, m.begin - at);
    if (x.is_object()) {
      RH_TRY_ASSIGN(std::string flags, dict_as_flags(x));
      out += flags;
    } else {
      out += python_str(x);
    }
    at = m.end;
  }
  out += s.substr(at);
  std::string unescaped;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 3, "\\${") == 0) {
      unescaped += "${";
      i += 2;
    } else {
      unescaped += out[i];
    }
  }
  return unescaped;
}

}  // namespace rh::pipeline

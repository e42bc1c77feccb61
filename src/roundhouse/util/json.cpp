#include "roundhouse/util/json.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "roundhouse/util/strings.h"

namespace rh {

namespace {

Status type_error(const std::string& where, const char* key, const char* want, const Json& got) {
  return make_error(ErrorCode::invalid_argument,
                    where + "." + key + " must be " + want + ", got " + describe_json_type(got));
}

Status missing(const std::string& where, const char* key) {
  return make_error(ErrorCode::invalid_argument, where + "." + key + " is required");
}

}  // namespace

std::string describe_json_type(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    default:
      return "unknown";
  }
}

Result<Json> parse_json(std::string_view text, std::string_view where) {
  // nlohmann rejects invalid UTF-8 with an exception at dump time, not parse
  // time; check up front so nothing undecodable gets stored.
  size_t bad = first_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    return make_error(ErrorCode::invalid_argument,
                      std::string(where) + " is not valid UTF-8 (first bad byte at offset " +
                          std::to_string(bad) + ")");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return make_error(ErrorCode::invalid_argument,
                      std::string(where) + " is not valid JSON: " + e.what());
  }
}

Status expect_object(const Json& j, const std::string& where) {
  if (!j.is_object()) {
    return make_error(ErrorCode::invalid_argument,
                      where + " must be a JSON object, got " + describe_json_type(j));
  }
  return {};
}

Status read_string(const Json& obj, const char* key, const std::string& where, std::string& out,
                   bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? missing(where, key) : Status{};
  if (!it->is_string())
    return type_error(where, key, "a string", *it);
  out = it->get<std::string>();
  return {};
}

Status read_int(const Json& obj, const char* key, const std::string& where, int64_t& out,
                bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? missing(where, key) : Status{};
  if (it->is_number_integer() || it->is_number_unsigned()) {
    if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)) {
      return type_error(where, key, "an integer within 64 bits", *it);
    }
    out = it->get<int64_t>();
    return {};
  }
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) {
      out = static_cast<int64_t>(d);
      return {};
    }
  }
  return type_error(where, key, "an integer", *it);
}

Status read_double(const Json& obj, const char* key, const std::string& where, double& out,
                   bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? missing(where, key) : Status{};
  RH_TRY_ASSIGN(out, json_to_double(*it, where + "." + key));
  return {};
}

Status read_bool(const Json& obj, const char* key, const std::string& where, bool& out,
                 bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? missing(where, key) : Status{};
  if (!it->is_boolean())
    return type_error(where, key, "true or false", *it);
  out = it->get<bool>();
  return {};
}

Status read_string_list(const Json& obj, const char* key, const std::string& where,
                        std::vector<std::string>& out, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? missing(where, key) : Status{};
  if (!it->is_array())
    return type_error(where, key, "an array of strings", *it);
  std::vector<std::string> v;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    if (!e.is_string()) {
      return make_error(ErrorCode::invalid_argument, where + "." + key + "[" + std::to_string(i) +
                                                         "] must be a string, got " +
                                                         describe_json_type(e));
    }
    v.push_back(e.get<std::string>());
  }
  out = std::move(v);
  return {};
}

Status read_string_map(const Json& obj, const char* key, const std::string& where,
                       std::map<std::string, std::string>& out, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? missing(where, key) : Status{};
  if (!it->is_object())
    return type_error(where, key, "an object", *it);
  std::map<std::string, std::string> m;
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (e->is_string()) {
      m[e.key()] = e->get<std::string>();
    } else if (e->is_number() || e->is_boolean()) {
      m[e.key()] = e->dump();
    } else {
      return make_error(ErrorCode::invalid_argument,
                        where + "." + key + "." + e.key() +
                            " must be a string, number or boolean, got " + describe_json_type(*e));
    }
  }
  out = std::move(m);
  return {};
}

Result<double> json_to_double(const Json& j, const std::string& where) {
  if (j.is_number())
    return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "NaN" || s == "nan")
      return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity" || s == "inf" || s == "+Infinity")
      return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf")
      return -std::numeric_limits<double>::infinity();
  }
  return make_error(ErrorCode::invalid_argument,
                    where + " must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got " +
                        describe_json_type(j));
}

Json double_to_json(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

}  // namespace rh

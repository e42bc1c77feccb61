#include "roundhouse/api/scalar_body.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace rh::api {

namespace {

Status bad(std::string msg) {
  return make_error(ErrorCode::invalid_argument, std::move(msg));
}

Result<double> number_or_special(simdjson::dom::element v, const std::string& where) {
  double d;
  if (!v.get_double().get(d))
    return d;
  std::string_view s;
  if (!v.get_string().get(s)) {
    if (s == "NaN" || s == "nan")
      return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity" || s == "inf")
      return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf")
      return -std::numeric_limits<double>::infinity();
  }
  return std::unexpected(
      bad(where + " must be a number (or \"NaN\", \"Infinity\", \"-Infinity\")").error());
}

Status parse_series(simdjson::dom::object obj, const std::string& w, ScalarSeries& s) {
  bool has_title = false, has_series = false, has_values = false;
  for (auto [key, value] : obj) {
    std::string k(key);
    if (k == "title" || k == "series") {
      std::string_view str;
      if (value.get_string().get(str))
        return bad(w + "." + k + " must be a string");
      (k == "title" ? s.title : s.series) = std::string(str);
      (k == "title" ? has_title : has_series) = true;
    } else if (k == "iterations") {
      simdjson::dom::array arr;
      if (value.get_array().get(arr))
        return bad(w + ".iterations must be an array of integers");
      s.steps.reserve(arr.size());
      size_t i = 0;
      for (auto e : arr) {
        int64_t v;
        if (e.get_int64().get(v)) {
          return bad(w + ".iterations[" + std::to_string(i) + "] must be an integer");
        }
        s.steps.push_back(v);
        ++i;
      }
    } else if (k == "values") {
      has_values = true;
      simdjson::dom::array arr;
      if (value.get_array().get(arr))
        return bad(w + ".values must be an array of numbers");
      s.values.reserve(arr.size());
      size_t i = 0;
      for (auto e : arr) {
        RH_TRY_ASSIGN(double x, number_or_special(e, w + ".values[" + std::to_string(i) + "]"));
        s.values.push_back(x);
        ++i;
      }
    } else if (k == "times") {
      simdjson::dom::array arr;
      if (value.get_array().get(arr))
        return bad(w + ".times must be an array of numbers");
      s.times.reserve(arr.size());
      size_t i = 0;
      for (auto e : arr) {
        double d;
        if (e.get_double().get(d)) {
          return bad(w + ".times[" + std::to_string(i) + "] must be a number");
        }
        s.times.push_back(d);
        ++i;
      }
    } else {
      return bad(w + "." + k + " is not a known field (title, series, iterations, values, times)");
    }
  }
  if (!has_title)
    return bad(w + ".title is required");
  if (!has_series)
    return bad(w + ".series is required");
  if (!has_values)
    return bad(w + ".values is required");
  return {};
}

}  // namespace

Result<std::vector<ScalarSeries>> parse_scalar_json(std::string_view body) {
  // The DOM API dispatches at run time to the CPU's SIMD kernels (On Demand
  // would be compiled for the baseline target only).
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(body.data(), body.size(), true).get(root)) {
    return std::unexpected(
        bad(std::string("body is not valid JSON: ") + simdjson::error_message(err)).error());
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj))
    return std::unexpected(bad("body must be a JSON object").error());
  std::vector<ScalarSeries> out;
  bool found = false;
  for (auto [key, value] : obj) {
    if (key != "series") {
      return std::unexpected(
          bad("body." + std::string(key) + " is not a known field (series)").error());
    }
    found = true;
    simdjson::dom::array arr;
    if (value.get_array().get(arr))
      return std::unexpected(bad("body.series must be an array").error());
    size_t i = 0;
    for (auto e : arr) {
      std::string w = "body.series[" + std::to_string(i) + "]";
      simdjson::dom::object sobj;
      if (e.get_object().get(sobj))
        return std::unexpected(bad(w + " must be an object").error());
      ScalarSeries s;
      RH_TRY(parse_series(sobj, w, s));
      out.push_back(std::move(s));
      ++i;
    }
  }
  if (!found)
    return std::unexpected(bad("body.series is required").error());
  return out;
}

Result<std::vector<ScalarSeries>> parse_scalar_binary(std::string_view b) {
  size_t pos = 0;
  auto need = [&](size_t n, const char* what) -> Status {
    if (b.size() - pos < n) {
      return bad(std::string("binary scalar body is truncated in ") + what + " at byte " +
                 std::to_string(pos));
    }
    return {};
  };
  auto u16 = [&]() {
    uint16_t v;
    std::memcpy(&v, b.data() + pos, 2);
    pos += 2;
    return v;
  };
  auto u32 = [&]() {
    uint32_t v;
    std::memcpy(&v, b.data() + pos, 4);
    pos += 4;
    return v;
  };
  RH_TRY(need(8, "header"));
  if (b.substr(0, 4) != "RHS1")
    return std::unexpected(bad("binary scalar body must start with RHS1").error());
  pos = 4;
  uint32_t count = u32();
  std::vector<ScalarSeries> out;
  for (uint32_t k = 0; k < count; ++k) {
    ScalarSeries s;
    RH_TRY(need(2, "title length"));
    uint16_t tl = u16();
    RH_TRY(need(tl, "title"));
    s.title.assign(b.data() + pos, tl);
    pos += tl;
    RH_TRY(need(2, "series length"));
    uint16_t sl = u16();
    RH_TRY(need(sl, "series"));
    s.series.assign(b.data() + pos, sl);
    pos += sl;
    RH_TRY(need(4, "point count"));
    uint32_t n = u32();
    RH_TRY(need(size_t{n} * 24, "points"));
    s.steps.resize(n);
    s.values.resize(n);
    s.times.resize(n);
    std::memcpy(s.steps.data(), b.data() + pos, size_t{n} * 8);
    pos += size_t{n} * 8;
    std::memcpy(s.values.data(), b.data() + pos, size_t{n} * 8);
    pos += size_t{n} * 8;
    std::memcpy(s.times.data(), b.data() + pos, size_t{n} * 8);
    pos += size_t{n} * 8;
    out.push_back(std::move(s));
  }
  if (pos != b.size()) {
    return std::unexpected(bad("binary scalar body has " + std::to_string(b.size() - pos) +
                               " bytes after its last series")
                               .error());
  }
  return out;
}

std::string encode_scalar_binary(const std::vector<ScalarSeries>& batch) {
  std::string out = "RHS1";
  auto put = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  uint32_t count = static_cast<uint32_t>(batch.size());
  put(&count, 4);
  for (const auto& s : batch) {
    uint16_t tl = static_cast<uint16_t>(s.title.size());
    put(&tl, 2);
    out += s.title;
    uint16_t sl = static_cast<uint16_t>(s.series.size());
    put(&sl, 2);
    out += s.series;
    uint32_t n = static_cast<uint32_t>(s.steps.size());
    put(&n, 4);
    put(s.steps.data(), n * 8);
    put(s.values.data(), n * 8);
    if (s.times.size() == n) {
      put(s.times.data(), n * 8);
    } else {
      out.append(size_t{n} * 8, '\0');
    }
  }
  return out;
}

}  // namespace rh::api

// What every route file uses to write a handler: synchronous handlers, JSON
// answers, the body as a JSON object, integer and list query parameters, and
// number arrays written without a DOM. Included by api/*_routes.cpp only
// (it brings nlohmann/json).
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "roundhouse/api/http.h"
#include "roundhouse/model/json.h"
#include "roundhouse/util/error.h"

#include <nlohmann/json.hpp>

namespace rh::api {

using SyncHandler = std::function<Result<HttpResponse>(HttpRequest&)>;

// A handler that answers before it returns: an error becomes its JSON error response.
Handler sync(SyncHandler fn);
HttpResponse ok_json(const Json& j, int status = 200);
// invalid_argument when the body is empty or not a JSON object.
Result<Json> body_object(const HttpRequest& req);
// The query parameter as an integer (def when absent); invalid_argument naming it otherwise.
Result<int64_t> query_int(const HttpRequest& req, const std::string& key, int64_t def);
// Every value of a repeated or comma-separated query parameter, empty parts dropped.
std::vector<std::string> query_list(const HttpRequest& req, const std::string& key);

// Appends a JSON array of numbers without building a DOM (chart reads are big).
template <class T>
void append_number_array(std::string& out, const std::vector<T>& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i)
      out.push_back(',');
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v[i])) {
        out += "\"NaN\"";
      } else if (std::isinf(v[i])) {
        out += v[i] > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      } else {
        fmt::format_to(std::back_inserter(out), "{}", v[i]);
      }
    } else {
      fmt::format_to(std::back_inserter(out), "{}", v[i]);
    }
  }
  out.push_back(']');
}

// One thread that runs queued jobs in order: the agents' take attempts after
// a wake-up, so neither the thread that enqueued nor the timer thread waits

}  // namespace rh::api

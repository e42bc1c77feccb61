// How the REST client's parts call the server: JSON requests, request keys,
// lists sent in slices under the server's body limit, decoding a response.
// Internal to client/ (it brings nlohmann/json).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "roundhouse/client/http_client.h"
#include "roundhouse/model/json.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/error.h"

namespace rh {

// The response parsed as JSON; a body that is not valid UTF-8 is refused
// before anything is sent (the server would refuse it the same way).
Result<Json> call_json(HttpClient& c, const std::string& method, const std::string& path,
                       const Json& body = Json(), const std::vector<std::string>& headers = {});

Status status_of(const Result<Json>& r);

// Calls fn with each run of at most n items of v, in order: a request each,
// well under the server's body limit. With even_empty, an empty v gives one
// empty run (a request that must be made anyway).
template <class T, class Fn>
Status in_slices(const std::vector<T>& v, size_t n, Fn&& fn, bool even_empty = false) {
  for (size_t i = 0; i < v.size() || (even_empty && i == 0); i += n) {
    std::vector<T> part(v.begin() + static_cast<long>(i),
                        v.begin() + static_cast<long>(std::min(v.size(), i + n)));
    RH_TRY(fn(part));
  }
  return {};
}

template <class T>
Result<T> decode(const Json& j, const std::string& where) {
  T out;
  RH_TRY(from_json(j, where, out));
  return out;
}

// The Idempotency-Key header for a non-empty request key.
std::vector<std::string> key_header(const std::string& request_key);

}  // namespace rh

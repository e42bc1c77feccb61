#include "roundhouse/client/rest_calls.h"

namespace rh {

Result<Json> call_json(HttpClient& c, const std::string& method, const std::string& path,
                       const Json& body, const std::vector<std::string>& headers) {
  std::string payload;
  if (!body.is_null()) {
    try {
      payload = body.dump();
    } catch (const Json::type_error&) {
      // The server would refuse it the same way; say so without sending.
      return make_error(ErrorCode::invalid_argument,
                        "the request to " + path + " contains text that is not valid UTF-8");
    }
  }
  RH_TRY_ASSIGN(std::string text, c.call(method, path, payload, "application/json", headers));
  return parse_json(text, "response from " + path);
}

Status status_of(const Result<Json>& r) {
  if (!r)
    return std::unexpected(r.error());
  return {};
}

std::vector<std::string> key_header(const std::string& request_key) {
  if (request_key.empty())
    return {};
  return {"Idempotency-Key: " + request_key};
}

}  // namespace rh

#include "roundhouse/api/handlers.h"

#include "roundhouse/util/strings.h"

namespace rh::api {

Handler sync(SyncHandler fn) {
  return [fn = std::move(fn)](HttpRequest& req, Respond respond) {
    auto r = fn(req);
    respond(r ? std::move(*r) : error_response(r.error()));
  };
}

HttpResponse ok_json(const Json& j, int status) {
  return json_response(status, j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Result<Json> body_object(const HttpRequest& req) {
  if (req.body.empty())
    return make_error(ErrorCode::invalid_argument, "body is empty; expected a JSON object");
  RH_TRY_ASSIGN(Json j, parse_json(req.body, "body"));
  RH_TRY(expect_object(j, "body"));
  return j;
}

Result<int64_t> query_int(const HttpRequest& req, const std::string& key, int64_t def) {
  if (!req.has_query(key))
    return def;
  auto v = parse_int(req.query_value(key));
  if (!v) {
    return make_error(
        ErrorCode::invalid_argument,
        "query parameter " + key + " must be an integer, got \"" + req.query_value(key) + "\"");
  }
  return *v;
}

std::vector<std::string> query_list(const HttpRequest& req, const std::string& key) {
  std::vector<std::string> out;
  auto [b, e] = req.query.equal_range(key);
  for (auto it = b; it != e; ++it) {
    for (auto& part : split(it->second, ',')) {
      if (!part.empty())
        out.push_back(part);
    }
  }
  return out;
}

}  // namespace rh::api

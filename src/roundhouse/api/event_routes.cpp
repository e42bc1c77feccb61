// What a running task reports: scalars (and series for charts), console lines, plots.
#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/api/scalar_body.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/trace.h"

namespace rh::api {

void Api::add_event_routes(Router& r) {
  route(r, "POST", "/api/v1/tasks/{id}/scalars",
        sync([this](HttpRequest& req) { return post_scalars(req); }));
  route(r, "GET", "/api/v1/tasks/{id}/scalars",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(auto sums, m_ctx.store.scalars().summaries(id));
          Json arr = Json::array();
          for (const auto& s : sums)
            arr.push_back(to_json(s));
          return ok_json(Json{{"scalars", arr}});
        }));
  route(r, "GET", "/api/v1/tasks/{id}/scalars/series",
        sync([this](HttpRequest& req) { return get_series(req); }));

  route(r, "POST", "/api/v1/tasks/{id}/console",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          if (!j.contains("lines")) {
            return make_error(ErrorCode::invalid_argument, "body.lines is required");
          }
          std::vector<ConsoleLine> lines;
          RH_TRY(list_from_json(j["lines"], "body.lines", lines));
          RH_TRY_ASSIGN(int64_t last, m_ctx.store.console().append(id, std::move(lines),
                                                                   req.header("idempotency-key")));
          return ok_json(Json{{"last_seq", last}});
        }));
  route(r, "GET", "/api/v1/tasks/{id}/console",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(int64_t after, query_int(req, "after", 0));
          RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 1000));
          int lim = static_cast<int>(std::clamp<int64_t>(limit, -1, 1 << 30));
          RH_TRY_ASSIGN(auto lines, m_ctx.store.console().read(id, after, lim));
          Json arr = Json::array();
          for (const auto& l : lines)
            arr.push_back(to_json(l));
          return ok_json(Json{{"lines", arr}});
        }));
  route(r, "POST", "/api/v1/tasks/{id}/plots",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          Plot p;
          RH_TRY(from_json(j, "body", p));
          auto refs = referring();
          if (!p.digest.empty()) {
            RH_TRY(stored_blob_size(p.digest));
          }
          RH_TRY_ASSIGN(Plot stored, m_ctx.store.plots().add(id, p));
          return ok_json(to_json(stored), 201);
        }));
  route(r, "GET", "/api/v1/tasks/{id}/plots",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(int64_t after, query_int(req, "after", 0));
          RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 1000));
          int lim = static_cast<int>(std::clamp<int64_t>(limit, -1, 1 << 30));
          RH_TRY_ASSIGN(auto plots,
                        m_ctx.store.plots().list(id, req.query_value("kind"), after, lim));
          Json arr = Json::array();
          for (const auto& p : plots) {
            arr.push_back(to_json(p));
          }
          return ok_json(Json{{"plots", arr}});
        }));
}

Result<HttpResponse> Api::post_scalars(HttpRequest& req) {
  RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
  std::string ct = req.header("content-type");
  std::vector<ScalarSeries> batch;
  if (ct.rfind("application/x-rh-scalars", 0) == 0) {
    RH_TRY_ASSIGN(batch, parse_scalar_binary(req.body));
  } else {
    RH_TRY_ASSIGN(batch, parse_scalar_json(req.body));
  }
  size_t points = 0;
  for (const auto& s : batch)
    points += s.values.size();
  RH_TRY(m_ctx.store.scalars().append(id, std::move(batch), req.header("idempotency-key")));
  return json_response(200, fmt::format("{{\"points\":{}}}", points));
}

Result<HttpResponse> Api::get_series(HttpRequest& req) {
  RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
  std::string title = req.query_value("title");
  std::string series = req.query_value("series");
  if (!req.has_query("title") || !req.has_query("series")) {
    return make_error(ErrorCode::invalid_argument,
                      "query parameters title and series are required");
  }
  ScalarReadOptions opt;
  RH_TRY_ASSIGN(int64_t max_points, query_int(req, "max_points", 0));
  if (max_points < 0 || max_points > 1000000) {
    return make_error(ErrorCode::invalid_argument, "max_points must be 0..1000000");
  }
  opt.max_points = static_cast<int>(max_points);
  if (req.has_query("min_iteration")) {
    RH_TRY_ASSIGN(int64_t v, query_int(req, "min_iteration", 0));
    opt.min_step = v;
  }
  if (req.has_query("max_iteration")) {
    RH_TRY_ASSIGN(int64_t v, query_int(req, "max_iteration", 0));
    opt.max_step = v;
  }
  RH_TRY_ASSIGN(ScalarSeries s, m_ctx.store.scalars().read(id, title, series, opt));
  std::string out = "{\"title\":" + Json(title).dump() + ",\"series\":" + Json(series).dump() +
                    ",\"iterations\":";
  append_number_array(out, s.steps);
  out += ",\"values\":";
  append_number_array(out, s.values);
  out += ",\"times\":";
  append_number_array(out, s.times);
  out += "}";
  return json_response(200, std::move(out));
}

}  // namespace rh::api

// Tasks: list (filtered, sorted, keyset-paged), create, get, update, delete, status, tags,
// hyperparameters, configurations.
#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"

namespace rh::api {

void Api::add_task_routes(Router& r) {
  route(r, "GET", "/api/v1/tasks", sync([this](HttpRequest& req) { return list_tasks(req); }));
  route(r, "POST", "/api/v1/tasks", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          NewTask t;
          RH_TRY(from_json(j, "body", t));
          if (!t.parent.empty()) {
            RH_TRY_ASSIGN(t.parent, task_id(t.parent));
          }
          RH_TRY_ASSIGN(Task created, m_ctx.store.tasks().create(t));
          return ok_json(to_json(created), 201);
        }));
  route(r, "GET", "/api/v1/tasks/{id}", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Task t, m_ctx.store.tasks().get(id));
          return ok_json(to_json(t));
        }));
  route(r, "PATCH", "/api/v1/tasks/{id}", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          TaskPatch p;
          RH_TRY(from_json(j, "body", p));
          RH_TRY_ASSIGN(Task t, m_ctx.store.tasks().update(id, p));
          return ok_json(to_json(t));
        }));
  route(r, "DELETE", "/api/v1/tasks/{id}", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY(m_ctx.store.tasks().remove(id));
          return ok_json(Json{{"deleted", id}});
        }));
  route(r, "POST", "/api/v1/tasks/{id}/status",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::string status, message;
          RH_TRY(read_string(j, "status", "body", status, true));
          RH_TRY(read_string(j, "message", "body", message));
          RH_TRY_ASSIGN(TaskStatus to, parse_task_status(status));
          RH_TRY_ASSIGN(Task t, m_ctx.store.tasks().set_status(id, to, message));
          return ok_json(to_json(t));
        }));
  route(r, "POST", "/api/v1/tasks/{id}/tags",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::vector<std::string> add, remove;
          RH_TRY(read_string_list(j, "add", "body", add));
          RH_TRY(read_string_list(j, "remove", "body", remove));
          RH_TRY_ASSIGN(Task t, m_ctx.store.tasks().change_tags(id, add, remove));
          return ok_json(to_json(t));
        }));
  route(r, "GET", "/api/v1/tasks/{id}/hyperparameters",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Task t, m_ctx.store.tasks().get(id));
          return ok_json(Json{{"hyperparameters", hyperparameters_to_json(t.hyperparameters)}});
        }));
  route(r, "PUT", "/api/v1/tasks/{id}/hyperparameters",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          if (!j.contains("hyperparameters")) {
            return make_error(ErrorCode::invalid_argument, "body.hyperparameters is required");
          }
          std::vector<Hyperparameter> params;
          RH_TRY(hyperparameters_from_json(j["hyperparameters"], "body.hyperparameters", params));
          bool replace = false;
          RH_TRY(read_bool(j, "replace_sections", "body", replace));
          RH_TRY(m_ctx.store.tasks().set_hyperparameters(id, params, replace));
          RH_TRY_ASSIGN(Task t, m_ctx.store.tasks().get(id));
          return ok_json(Json{{"hyperparameters", hyperparameters_to_json(t.hyperparameters)}});
        }));
  route(r, "PUT", "/api/v1/tasks/{id}/configurations/{name}",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          Configuration c;
          c.name = req.params[1];
          RH_TRY(read_string(j, "value", "body", c.value, true));
          RH_TRY(read_string(j, "description", "body", c.description));
          RH_TRY(m_ctx.store.tasks().set_configuration(id, c));
          return ok_json(to_json(c));
        }));
}

Result<HttpResponse> Api::list_tasks(HttpRequest& req) {
  TaskQuery q;
  if (req.has_query("project"))
    q.project = req.query_value("project");
  for (const auto& s : query_list(req, "status")) {
    RH_TRY_ASSIGN(TaskStatus st, parse_task_status(s));
    q.statuses.push_back(st);
  }
  q.tags = query_list(req, "tag");
  if (req.has_query("name"))
    q.name_contains = req.query_value("name");
  if (req.has_query("parent")) {
    RH_TRY_ASSIGN(q.parent, task_id(req.query_value("parent")));
  }
  if (req.has_query("order_by"))
    q.order_by = req.query_value("order_by");
  std::string order = req.query_value("order");
  if (!order.empty() && order != "asc" && order != "desc") {
    return make_error(ErrorCode::invalid_argument, "query parameter order must be asc or desc");
  }
  q.descending = order != "asc";
  RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 100));
  if (limit < 1 || limit > 1000) {
    return make_error(ErrorCode::invalid_argument, "query parameter limit must be 1..1000");
  }
  q.limit = static_cast<int>(limit);
  q.cursor = req.query_value("cursor");
  auto [fb, fe] = req.query.equal_range("filter");
  for (auto it = fb; it != fe; ++it) {
    RH_TRY_ASSIGN(TaskFilter f, parse_task_filter(it->second));
    q.filters.push_back(std::move(f));
  }
  for (const char* kind : {"param", "metric"}) {
    for (const auto& name : query_list(req, kind)) {
      auto slash = name.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) {
        return make_error(ErrorCode::invalid_argument,
                          std::string("query parameter ") + kind + " \"" + name +
                              "\" must be <section>/<name> (or <title>/<series> for metrics)");
      }
      auto& into = kind[0] == 'p' ? q.with_params : q.with_metrics;
      into.emplace_back(name.substr(0, slash), name.substr(slash + 1));
    }
  }
  if (q.with_params.size() + q.with_metrics.size() > 50) {
    return make_error(ErrorCode::invalid_argument, "at most 50 param and metric columns");
  }
  RH_TRY_ASSIGN(TaskPage page, m_ctx.store.tasks().list(q));
  Json arr = Json::array();
  for (const auto& t : page.tasks)
    arr.push_back(to_json(t, false));
  Json out{{"tasks", arr}};
  out["next_cursor"] = page.next_cursor.empty() ? Json() : Json(page.next_cursor);
  return ok_json(out);
}

}  // namespace rh::api

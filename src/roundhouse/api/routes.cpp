#include "roundhouse/api/routes.h"

#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/util/strings.h"

namespace rh::api {

Api::Api(ApiContext& ctx)
    : m_ctx(ctx),
      m_reaper(ctx.store.queues(), ctx.worker_timeout_s, ctx.store_now,
               [this](const LostTask& l) {
                 std::fprintf(stderr, "rh server: agent %s went silent; task %s %s\n",
                              l.worker.c_str(), l.task_id.c_str(),
                              l.status == TaskStatus::queued ? "requeued" : "failed");
                 m_hub.bump("task:" + l.task_id);
                 m_hub.bump("tasks");
                 if (l.status == TaskStatus::queued)
                   m_hub.bump("queues");
               }),
      m_experiments(ctx.store, m_hub),
      m_dags(ctx.store, m_hub),
      m_sweeper(ctx.store, ctx.blobs, m_refs, ctx.blob_grace_s, 2.0, ctx.store_now) {}

Result<std::string> Api::task_id(const std::string& p) {
  if (p.size() == 32 && is_hex(p))
    return p;
  return m_ctx.store.tasks().resolve(p);
}

// Adds a route; writes to a task (or a new task) bump the change hub so
// that live pages and long-polls waiting on it wake up.
void Api::route(Router& r, const std::string& method, const std::string& pattern, Handler h,
                bool stream_body) {
  bool writes = method != "GET" && method != "HEAD";
  bool on_task = pattern.starts_with("/api/v1/tasks/{id}");
  if (writes && (on_task || pattern == "/api/v1/tasks")) {
    h = [this, on_task, h = std::move(h)](HttpRequest& req, Respond respond) {
      std::string id;
      if (on_task) {
        auto full = task_id(req.params[0]);
        if (full)
          id = *full;
      }
      h(req, [this, id, respond = std::move(respond)](HttpResponse resp) {
        if (resp.status < 300) {
          if (!id.empty())
            m_hub.bump("task:" + id);
          m_hub.bump("tasks");
        }
        respond(std::move(resp));
      });
    };
  }
  r.add(method, pattern, std::move(h), stream_body);
}

void Api::add(Router& r) {
  r.on_shutdown([this] {
    m_reaper.stop();
    m_experiments.stop();
    m_dags.stop();
    m_sweeper.stop();
    m_hub.shutdown();
  });
  add_service_routes(r);
  add_project_routes(r);
  add_task_routes(r);
  add_event_routes(r);
  add_artifact_routes(r);
  add_blob_routes(r);
  add_blob_alias_routes(r);
  add_queue_routes(r);
  add_dataset_routes(r);
  add_experiment_routes(r);
  add_pipeline_routes(r);
}

void Api::add_service_routes(Router& r) {
  // Long-poll: answers when the task (or with no task, any task) changes
  // from version `since`, or after `timeout` seconds (default 25, at most 60).
  route(r, "GET", "/api/v1/changes", [this](HttpRequest& req, Respond respond) {
    auto parsed = [&]() -> Result<std::pair<std::string, std::pair<int64_t, int64_t>>> {
      std::string key = "tasks";
      if (req.has_query("task")) {
        RH_TRY_ASSIGN(std::string id, task_id(req.query_value("task")));
        key = "task:" + id;
      }
      RH_TRY_ASSIGN(int64_t since, query_int(req, "since", -1));
      RH_TRY_ASSIGN(int64_t timeout, query_int(req, "timeout", 25));
      if (timeout < 0 || timeout > 60) {
        return make_error(ErrorCode::invalid_argument, "query parameter timeout must be 0..60");
      }
      return std::pair{key, std::pair{since, timeout}};
    }();
    if (!parsed)
      return respond(error_response(parsed.error()));
    auto [key, args] = *parsed;
    auto [since, timeout] = args;
    // No `since`: the current version at once.
    uint64_t since_v = since < 0 ? ~uint64_t(0) : static_cast<uint64_t>(since);
    m_hub.wait(key, since_v, std::chrono::seconds(timeout), [respond](uint64_t v) {
      respond(ok_json(Json{{"version", v}}));
    });
  });
  route(r, "GET", "/api/v1/keys", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          std::optional<std::string> project;
          if (req.has_query("project"))
            project = req.query_value("project");
          RH_TRY_ASSIGN(TaskKeys k, m_ctx.store.tasks().keys(project));
          auto names = [](const auto& pairs) {
            Json arr = Json::array();
            for (const auto& [a, b] : pairs)
              arr.push_back(a + "/" + b);
            return arr;
          };
          return ok_json(Json{{"params", names(k.params)}, {"metrics", names(k.metrics)}});
        }));
  route(r, "GET", "/api/v1/health", sync([this](HttpRequest&) -> Result<HttpResponse> {
          return ok_json(Json{{"status", "ok"}, {"version", m_ctx.version}});
        }));
}

void add_api_routes(Router& router, ApiContext& ctx) {
  // The Api object lives as long as the routes that capture it.
  auto api = std::make_shared<Api>(ctx);
  api->add(router);
  // Handlers capture `this`; keep the object alive for as long as the router is.
  router.keep_alive(api);
}

}  // namespace rh::api

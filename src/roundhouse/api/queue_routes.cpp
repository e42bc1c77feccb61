// Queues and agents: queues, enqueue/dequeue/clone, take (long-polled), worker heartbeats.
#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/flow/task_pipeline.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"

namespace rh::api {

void Api::add_queue_routes(Router& r) {
  auto& qs = m_ctx.store.queues();
  route(r, "GET", "/api/v1/queues", sync([&qs](HttpRequest&) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(auto list, qs.list());
          Json arr = Json::array();
          for (const auto& q : list)
            arr.push_back(to_json(q));
          return ok_json(Json{{"queues", arr}});
        }));
  route(r, "POST", "/api/v1/queues", sync([&qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          Queue q;
          RH_TRY(from_json(j, "body", q));
          RH_TRY_ASSIGN(Queue made, qs.create(q.name, q.requeue_on_lost));
          return ok_json(to_json(made), 201);
        }));
  route(r, "GET", "/api/v1/queues/{name}", sync([&qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Queue q, qs.get(req.params[0]));
          return ok_json(to_json(q));
        }));
  route(r, "DELETE", "/api/v1/queues/{name}", sync([&qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY(qs.remove(req.params[0]));
          return ok_json(Json{{"deleted", req.params[0]}});
        }));
  route(r, "GET", "/api/v1/queues/{name}/entries",
        sync([&qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 100));
          if (limit < 1 || limit > 10000)
            return make_error(ErrorCode::invalid_argument,
                              "query parameter limit must be 1..10000");
          RH_TRY_ASSIGN(auto list, qs.entries(req.params[0], static_cast<int>(limit)));
          Json arr = Json::array();
          for (const auto& e : list)
            arr.push_back(to_json(e));
          return ok_json(Json{{"entries", arr}});
        }));
  route(r, "POST", "/api/v1/tasks/{id}/enqueue",
        sync([this, &qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::string queue;
          int64_t priority = 0;
          RH_TRY(read_string(j, "queue", "body", queue, true));
          RH_TRY(read_int(j, "priority", "body", priority));
          // A clone of a pipeline run is run by the server, not by an agent
          // (flow/task_pipeline.h): its steps go to their own queues.
          RH_TRY_ASSIGN(auto pipeline, flow::start_cloned_pipeline(m_ctx.store, id));
          if (pipeline) {
            m_hub.bump("tasks");
            return ok_json(to_json(*pipeline));
          }
          RH_TRY_ASSIGN(Task t, qs.enqueue(id, queue, priority));
          m_hub.bump("queues");
          return ok_json(to_json(t));
        }));
  route(r, "POST", "/api/v1/tasks/{id}/dequeue",
        sync([this, &qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Task t, qs.dequeue(id));
          return ok_json(to_json(t));
        }));
  route(r, "POST", "/api/v1/tasks/{id}/clone",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          Json j = Json::object();
          if (!req.body.empty()) {
            RH_TRY_ASSIGN(j, body_object(req));
          }
          std::string name, comment;
          RH_TRY(read_string(j, "name", "body", name));
          RH_TRY(read_string(j, "comment", "body", comment));
          RH_TRY_ASSIGN(Task t, clone_task(m_ctx.store.tasks(), id, name, comment));
          return ok_json(to_json(t), 201);
        }));
  // An agent's dequeue: takes the next task of the first of its queues that
  // has one, waiting up to `timeout` seconds (0..60) for one to arrive.
  route(r, "POST", "/api/v1/queues/take", [this, &qs](HttpRequest& req, Respond respond) {
    auto args = [&]() -> Result<std::tuple<std::vector<std::string>, std::string, int64_t>> {
      RH_TRY_ASSIGN(Json j, body_object(req));
      std::vector<std::string> queues;
      std::string worker;
      int64_t timeout = 0;
      RH_TRY(read_string_list(j, "queues", "body", queues));
      RH_TRY(read_string(j, "worker", "body", worker, true));
      RH_TRY(read_int(j, "timeout", "body", timeout));
      if (queues.empty())
        return make_error(ErrorCode::invalid_argument, "body.queues must name at least one queue");
      if (timeout < 0 || timeout > 60)
        return make_error(ErrorCode::invalid_argument, "body.timeout must be 0..60 seconds");
      for (const auto& q : queues) {
        RH_TRY(qs.get(q));
      }
      return std::tuple{queues, worker, timeout};
    }();
    if (!args)
      return respond(error_response(args.error()));
    auto [queues, worker, timeout] = *args;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
    try_take(queues, worker, deadline, std::move(respond));
  });
  route(r, "POST", "/api/v1/workers/{name}/heartbeat",
        sync([&qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          Worker w;
          RH_TRY(from_json(j, "body", w));
          w.name = req.params[0];
          RH_TRY(qs.heartbeat(w));
          return ok_json(Json{{"ok", true}});
        }));
  route(r, "DELETE", "/api/v1/workers/{name}",
        sync([&qs](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY(qs.unregister(req.params[0]));
          return ok_json(Json{{"deleted", req.params[0]}});
        }));
  route(r, "GET", "/api/v1/workers", sync([&qs](HttpRequest&) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(auto list, qs.workers());
          Json arr = Json::array();
          for (const auto& w : list)
            arr.push_back(to_json(w));
          return ok_json(Json{{"workers", arr}});
        }));
}

// Takes a task or parks on the "queues" key until something is enqueued.
// The version is read before the attempt, so an enqueue in between wakes
// the wait at once instead of being missed.
void Api::try_take(std::vector<std::string> queues, std::string worker,
                   std::chrono::steady_clock::time_point deadline, Respond respond) {
  if (m_hub.stopping())  // shutting down: hand out nothing more
    return respond(ok_json(Json{{"task", nullptr}}));
  uint64_t v = m_hub.version("queues");
  auto got = m_ctx.store.queues().take(queues, worker);
  if (!got)
    return respond(error_response(got.error()));
  if (*got) {
    m_hub.bump("task:" + (*got)->id);
    m_hub.bump("tasks");
    return respond(ok_json(Json{{"task", to_json(**got)}}));
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || m_hub.stopping())
    return respond(ok_json(Json{{"task", nullptr}}));
  m_hub.wait("queues", v, left,
             [this, queues = std::move(queues), worker = std::move(worker), deadline,
              respond = std::move(respond)](uint64_t) mutable {
               // Runs on the bumping (or timer) thread: take on a worker thread instead.
               m_takes.post([this, queues = std::move(queues), worker = std::move(worker), deadline,
                             respond = std::move(respond)]() mutable {
                 try_take(std::move(queues), std::move(worker), deadline, std::move(respond));
               });
             });
}

}  // namespace rh::api

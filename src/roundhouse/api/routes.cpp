#include "roundhouse/api/routes.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "roundhouse/api/change_hub.h"
#include "roundhouse/api/file_list.h"
#include "roundhouse/api/scalar_body.h"
#include "roundhouse/blob/blob_batch.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/json.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/trace.h"

namespace rh::api {

namespace {

using SyncHandler = std::function<Result<HttpResponse>(HttpRequest&)>;

Handler sync(SyncHandler fn) {
  return [fn = std::move(fn)](HttpRequest& req, Respond respond) {
    auto r = fn(req);
    respond(r ? std::move(*r) : error_response(r.error()));
  };
}

HttpResponse ok_json(const Json& j, int status = 200) {
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
// on them. Jobs still queued when it stops are dropped (the server is gone).
class Serial {
 public:
  Serial() : m_thread([this] { loop(); }) {}
  ~Serial() {
    {
      std::lock_guard lk(m_mu);
      m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  void post(std::function<void()> fn) {
    {
      std::lock_guard lk(m_mu);
      m_jobs.push_back(std::move(fn));
    }
    m_cv.notify_one();
  }

 private:
  void loop() {
    std::unique_lock lk(m_mu);
    while (true) {
      m_cv.wait(lk, [&] { return m_stop || !m_jobs.empty(); });
      if (m_stop)
        return;
      auto fn = std::move(m_jobs.front());
      m_jobs.pop_front();
      lk.unlock();
      fn();
      lk.lock();
    }
  }
  std::mutex m_mu;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_jobs;
  bool m_stop = false;
  std::thread m_thread;
};

class Api {
  ChangeHub m_hub;
  Serial m_takes;  // after m_hub: stops first
  // Workers silent for longer than ApiContext::worker_timeout_s lose their
  // task (failed or requeued by its queue's setting): checked every second.
  std::mutex m_reap_mu;
  std::condition_variable m_reap_cv;
  bool m_reap_stop = false;
  std::thread m_reaper;

 public:
  explicit Api(ApiContext& ctx) : m_ctx(ctx) {
    if (ctx.worker_timeout_s > 0)
      m_reaper = std::thread([this] { reap_loop(); });
  }
  ~Api() { stop_reaper(); }

  void stop_reaper() {
    {
      std::lock_guard lk(m_reap_mu);
      m_reap_stop = true;
    }
    m_reap_cv.notify_all();
    if (m_reaper.joinable())
      m_reaper.join();
  }

  void reap_loop() {
    std::unique_lock lk(m_reap_mu);
    while (!m_reap_cv.wait_for(lk, std::chrono::seconds(1), [&] { return m_reap_stop; })) {
      lk.unlock();
      auto lost = m_ctx.store.queues().reap_workers(m_ctx.store_now() - m_ctx.worker_timeout_s);
      if (lost) {
        for (const auto& l : *lost) {
          std::fprintf(stderr, "rh server: agent %s went silent; task %s %s\n", l.worker.c_str(),
                       l.task_id.c_str(), l.status == TaskStatus::queued ? "requeued" : "failed");
          m_hub.bump("task:" + l.task_id);
          m_hub.bump("tasks");
          if (l.status == TaskStatus::queued)
            m_hub.bump("queues");
        }
      }
      lk.lock();
    }
  }

  // A task ID from the path: full IDs pass through, prefixes are resolved.
  Result<std::string> task_id(const std::string& p) {
    if (p.size() == 32 && is_hex(p))
      return p;
    return m_ctx.store.tasks().resolve(p);
  }

  // Adds a route; writes to a task (or a new task) bump the change hub so
  // that live pages and long-polls waiting on it wake up.
  void route(Router& r, const std::string& method, const std::string& pattern, Handler h,
             bool stream_body = false) {
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

  void add(Router& r) {
    r.on_shutdown([this] {
      stop_reaper();
      m_hub.shutdown();
    });
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
    add_queue_routes(r);
    add_dataset_routes(r);
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
    route(r, "GET", "/api/v1/projects", sync([this](HttpRequest&) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(auto list, m_ctx.store.projects().list());
            Json arr = Json::array();
            for (const auto& p : list)
              arr.push_back(to_json(p));
            return ok_json(Json{{"projects", arr}});
          }));
    route(r, "POST", "/api/v1/projects", sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(Json j, body_object(req));
            std::string name, description;
            RH_TRY(read_string(j, "name", "body", name, true));
            RH_TRY(read_string(j, "description", "body", description));
            RH_TRY_ASSIGN(auto p, m_ctx.store.projects().ensure(name, description));
            return ok_json(to_json(p), 201);
          }));
    route(r, "GET", "/api/v1/projects/{name}",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(auto p, m_ctx.store.projects().get(req.params[0]));
            return ok_json(to_json(p));
          }));

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
            RH_TRY_ASSIGN(int64_t last, m_ctx.store.console().append(
                                            id, std::move(lines), req.header("idempotency-key")));
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

    route(r, "PUT", "/api/v1/blobs/{digest}",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY(validate_digest(req.params[0]));
            if (req.body_digest.empty()) {
              RH_TRY_ASSIGN(BlobInfo info, m_ctx.blobs.put_file(req.body_file, req.params[0]));
              return ok_json(Json{{"digest", info.digest}, {"size", info.size}}, 201);
            }
            if (req.body_digest != req.params[0]) {
              return digest_mismatch(req.params[0], req.body_digest);
            }
            RH_TRY_ASSIGN(BlobInfo info, m_ctx.blobs.put_staged(req.body_file, req.body_digest));
            return ok_json(Json{{"digest", info.digest}, {"size", info.size}}, 201);
          }),
          /*stream_body=*/true);
    route(r, "GET", "/api/v1/blobs/{digest}",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            return blob_response(req.params[0], "application/octet-stream", "");
          }));

    route(r, "POST", "/api/v1/tasks/{id}/artifacts",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
            RH_TRY_ASSIGN(Json j, body_object(req));
            Artifact a;
            RH_TRY(from_json(j, "body", a));
            RH_TRY(validate_artifact_name(a.name));
            RH_TRY_ASSIGN(a.size, stored_blob_size(a.digest));
            RH_TRY_ASSIGN(Artifact stored, m_ctx.store.artifacts().put(id, a));
            return ok_json(to_json(stored), 201);
          }));
    route(r, "GET", "/api/v1/tasks/{id}/artifacts",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
            RH_TRY_ASSIGN(auto list, m_ctx.store.artifacts().list(id));
            Json arr = Json::array();
            for (const auto& a : list)
              arr.push_back(to_json(a));
            return ok_json(Json{{"artifacts", arr}});
          }));
    route(r, "GET", "/api/v1/tasks/{id}/artifacts/{name*}",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
            RH_TRY_ASSIGN(Artifact a, m_ctx.store.artifacts().get(id, req.params[1]));
            if (req.query_value("download") == "1") {
              return blob_response(
                  a.digest, a.content_type.empty() ? "application/octet-stream" : a.content_type,
                  basename_of_name(a.name));
            }
            return ok_json(to_json(a));
          }));
    route(r, "POST", "/api/v1/tasks/{id}/models",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
            RH_TRY_ASSIGN(Json j, body_object(req));
            Model m;
            RH_TRY(from_json(j, "body", m));
            m.task_id = id;
            if (!m.digest.empty()) {
              RH_TRY_ASSIGN(m.size, stored_blob_size(m.digest));
            }
            RH_TRY_ASSIGN(Model stored, m_ctx.store.artifacts().add_model(m));
            return ok_json(to_json(stored), 201);
          }));
    route(r, "POST", "/api/v1/tasks/{id}/plots",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
            RH_TRY_ASSIGN(Json j, body_object(req));
            Plot p;
            RH_TRY(from_json(j, "body", p));
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
    route(r, "GET", "/api/v1/tasks/{id}/models",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
            RH_TRY_ASSIGN(auto list, m_ctx.store.artifacts().models(id));
            Json arr = Json::array();
            for (const auto& m : list)
              arr.push_back(to_json(m));
            return ok_json(Json{{"models", arr}});
          }));
  }

  void add_queue_routes(Router& r) {
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
    route(r, "DELETE", "/api/v1/queues/{name}",
          sync([&qs](HttpRequest& req) -> Result<HttpResponse> {
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
          return make_error(ErrorCode::invalid_argument,
                            "body.queues must name at least one queue");
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

  Result<std::string> dataset_id(const std::string& p) {
    if (p.size() == 32 && is_hex(p))
      return p;
    return m_ctx.store.datasets().resolve(p);
  }

  void add_dataset_routes(Router& r) {
    auto& ds = m_ctx.store.datasets();
    route(r, "POST", "/api/v1/datasets",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(Json j, body_object(req));
            NewDatasetVersion v;
            RH_TRY(read_string(j, "project", "body", v.project, true));
            RH_TRY(read_string(j, "name", "body", v.name, true));
            RH_TRY(read_string(j, "version", "body", v.version));
            RH_TRY(read_string_list(j, "parents", "body", v.parents));
            RH_TRY(read_string_list(j, "tags", "body", v.tags));
            RH_TRY(read_string(j, "task_id", "body", v.task_id));
            for (auto& p : v.parents) {
              RH_TRY_ASSIGN(p, dataset_id(p));
            }
            RH_TRY_ASSIGN(DatasetVersion made, ds.create(v));
            return ok_json(to_json(made), 201);
          }));
    route(r, "GET", "/api/v1/datasets", sync([&ds](HttpRequest& req) -> Result<HttpResponse> {
            DatasetQuery q;
            if (req.has_query("project"))
              q.project = req.query_value("project");
            if (req.has_query("name"))
              q.name = req.query_value("name");
            if (req.has_query("version"))
              q.version = req.query_value("version");
            q.tags = query_list(req, "tag");
            q.final_only = req.query_value("final") == "1";
            RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 100));
            if (limit < 1 || limit > 10000)
              return make_error(ErrorCode::invalid_argument,
                                "query parameter limit must be 1..10000");
            q.limit = static_cast<int>(limit);
            RH_TRY_ASSIGN(auto list, ds.list(q));
            Json arr = Json::array();
            for (const auto& v : list)
              arr.push_back(to_json(v));
            return ok_json(Json{{"datasets", arr}});
          }));
    route(r, "GET", "/api/v1/datasets/{id}",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY_ASSIGN(DatasetVersion v, ds.get(id));
            return ok_json(to_json(v));
          }));
    route(r, "DELETE", "/api/v1/datasets/{id}",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY(ds.remove(id));
            return ok_json(Json{{"deleted", id}});
          }));
    route(r, "POST", "/api/v1/datasets/{id}/files",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            std::vector<DatasetFile> files;
            if (req.header("content-type").starts_with(k_file_list_type)) {
              RH_TRY(read_file_list(req.body, files));
            } else {
              RH_TRY_ASSIGN(Json j, body_object(req));
              if (!j.contains("files"))
                return make_error(ErrorCode::invalid_argument, "body.files is required");
              RH_TRY(list_from_json(j["files"], "body.files", files));
            }
            RH_TRY(ds.put_files(id, files));
            return ok_json(Json{{"files", files.size()}});
          }));
    // A whole change list (rows and removals) in one request and one write:
    // all of it applies or none does.
    route(r, "PUT", "/api/v1/datasets/{id}/changes",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY_ASSIGN(FileChangesReader reader, FileChangesReader::open(req.body_file));
            RH_TRY_ASSIGN(int64_t removed,
                          ds.change_files(id, [&](FileChanges& c) { return reader.next(c); }));
            return ok_json(Json{{"removed", removed}});
          }),
          /*stream_body=*/true);
    route(r, "GET", "/api/v1/datasets/{id}/files",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 1000));
            if (limit < 1 || limit > 100000)
              return make_error(ErrorCode::invalid_argument,
                                "query parameter limit must be 1..100000");
            RH_TRY_ASSIGN(auto files,
                          ds.files(id, req.query_value("after"), static_cast<int>(limit)));
            if (req.header("accept").find(k_file_list_type) != std::string::npos) {
              HttpResponse res;
              res.content_type = k_file_list_type;
              append_file_list(res.body, files);
              return res;
            }
            Json arr = Json::array();
            for (const auto& f : files)
              arr.push_back(to_json(f));
            return ok_json(Json{{"files", arr}});
          }));
    route(r, "POST", "/api/v1/datasets/{id}/remove",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY_ASSIGN(Json j, body_object(req));
            if (j.contains("paths")) {  // exact paths (a sync's removals), not a pattern
              std::vector<std::string> paths;
              RH_TRY(read_string_list(j, "paths", "body", paths));
              RH_TRY_ASSIGN(int64_t n, ds.remove_paths(id, paths));
              return ok_json(Json{{"removed", n}});
            }
            std::string pattern;
            RH_TRY(read_string(j, "pattern", "body", pattern, true));
            RH_TRY_ASSIGN(int64_t n, ds.remove_files(id, pattern));
            return ok_json(Json{{"removed", n}});
          }));
    route(r, "GET", "/api/v1/datasets/{id}/summary",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY_ASSIGN(DatasetSummary s, ds.summarize(id));
            return ok_json(to_json(s));
          }));
    route(r, "POST", "/api/v1/datasets/{id}/finalize",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY_ASSIGN(Json j, body_object(req));
            std::string manifest;
            RH_TRY(read_string(j, "manifest", "body", manifest, true));
            RH_TRY(stored_blob_size(manifest));  // blobs, then the manifest, then the row
            RH_TRY_ASSIGN(DatasetVersion v, ds.finalize(id, manifest));
            return ok_json(to_json(v));
          }));
    route(r, "POST", "/api/v1/datasets/{id}/tags",
          sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
            RH_TRY_ASSIGN(Json j, body_object(req));
            std::vector<std::string> add, remove;
            RH_TRY(read_string_list(j, "add", "body", add));
            RH_TRY(read_string_list(j, "remove", "body", remove));
            RH_TRY_ASSIGN(DatasetVersion v, ds.change_tags(id, add, remove));
            return ok_json(to_json(v));
          }));
    // Many small blobs in one request ("RHB1", then per blob: its 71-byte
    // digest, its size as u64 little-endian, its bytes), each checked against
    // its digest on every core, then stored together (a local store writes
    // one pack and syncs it once) before the answer.
    route(r, "POST", "/api/v1/blobs/batch", sync([this](HttpRequest& req) -> Result<HttpResponse> {
            std::vector<std::pair<std::string, std::string_view>> blobs;
            RH_TRY(read_blob_batch(
                req.body, [&](const std::string& digest, std::string_view bytes) -> Status {
                  blobs.emplace_back(digest, bytes);
                  return {};
                }));
            Trace check_trace("blobs batch: check");
            RH_TRY(parallel_for(blobs.size(), [&](size_t i) -> Status {
              const auto& [digest, bytes] = blobs[i];
              std::string actual = sha256_digest(bytes);
              if (actual != digest)
                return digest_mismatch(digest, actual);
              return {};
            }));
            check_trace.end();
            Trace t("blobs batch: store");
            RH_TRY(m_ctx.blobs.put_checked(blobs));
            return ok_json(Json{{"stored", blobs.size()}});
          }));
    // Many blobs in one answer, in the batch format above (in the order asked;
    // at most 64 MiB of content a request).
    route(r, "POST", "/api/v1/blobs/fetch", sync([this](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(Json j, body_object(req));
            std::vector<std::string> digests;
            RH_TRY(read_string_list(j, "digests", "body", digests));
            if (digests.size() > 10000)
              return make_error(ErrorCode::invalid_argument, "at most 10000 digests a request");
            HttpResponse resp;
            resp.content_type = "application/x-rh-blobs";
            resp.body = new_blob_batch();
            for (const auto& d : digests) {
              RH_TRY(validate_digest(d));
              RH_TRY_ASSIGN(std::string data, m_ctx.blobs.get_bytes(d));
              if (resp.body.size() + data.size() > (64ull << 20)) {
                return make_error(ErrorCode::too_large,
                                  "the blobs asked for exceed 64 MiB; ask for fewer at a time");
              }
              append_blob(resp.body, d, data);
            }
            return resp;
          }));
    // Which of these blobs the server lacks: what an upload still has to send.
    route(r, "POST", "/api/v1/blobs/missing",
          sync([this](HttpRequest& req) -> Result<HttpResponse> {
            // JSON, or text/plain: a digest a line, answered the same way
            // (50,000 digests: 0.3 s as JSON).
            bool plain = req.header("content-type").starts_with("text/plain");
            std::vector<std::string> digests;
            if (plain) {
              size_t line = 0;
              for (const auto& d : split(req.body, '\n')) {
                ++line;
                if (d.empty())
                  continue;
                if (auto st = validate_digest(d); !st)
                  return make_error(ErrorCode::invalid_argument,
                                    "line " + std::to_string(line) + ": " + st.error().message);
                digests.push_back(d);
              }
            } else {
              RH_TRY_ASSIGN(Json j, body_object(req));
              RH_TRY(read_string_list(j, "digests", "body", digests));
              for (const auto& d : digests) {
                RH_TRY(validate_digest(d));
              }
            }
            if (digests.size() > 100000)
              return make_error(ErrorCode::invalid_argument, "at most 100000 digests a request");
            RH_TRY_ASSIGN(auto missing, m_ctx.blobs.missing(digests));
            if (!plain)
              return ok_json(Json{{"missing", missing}});
            HttpResponse res;
            res.content_type = "text/plain";
            for (const auto& d : missing)
              res.body += d + "\n";
            return res;
          }));
  }

  // Takes a task or parks on the "queues" key until something is enqueued.
  // The version is read before the attempt, so an enqueue in between wakes
  // the wait at once instead of being missed.
  void try_take(std::vector<std::string> queues, std::string worker,
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
                 m_takes.post([this, queues = std::move(queues), worker = std::move(worker),
                               deadline, respond = std::move(respond)]() mutable {
                   try_take(std::move(queues), std::move(worker), deadline, std::move(respond));
                 });
               });
  }

 private:
  // Blobs first, then the row that points to them: the size of body.digest's
  // stored object, or an error telling the client to upload it.
  Result<uint64_t> stored_blob_size(const std::string& digest) {
    RH_TRY(validate_digest(digest));
    auto size = m_ctx.blobs.stat(digest);
    if (!size && size.error().code == ErrorCode::not_found) {
      return make_error(ErrorCode::invalid_argument, "body.digest " + digest +
                                                         " is not stored; upload it first (PUT "
                                                         "/api/v1/blobs/" +
                                                         digest + ")");
    }
    return size;
  }

  static std::string basename_of_name(const std::string& name) {
    auto pos = name.find_last_of('/');
    return pos == std::string::npos ? name : name.substr(pos + 1);
  }

  Result<HttpResponse> blob_response(const std::string& digest, const std::string& content_type,
                                     const std::string& filename) {
    RH_TRY(validate_digest(digest));
    RH_TRY_ASSIGN(uint64_t size, m_ctx.blobs.stat(digest));
    HttpResponse r;
    r.content_type = content_type;
    r.headers.emplace_back("X-Content-Digest", digest);
    if (!filename.empty()) {
      r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
    }
    if (std::string path = m_ctx.blobs.file_of(digest); !path.empty()) {
      r.file_path = std::move(path);  // loose: sent from its file (a packed one is read)
      r.file_length = size;
      return r;
    }
    RH_TRY_ASSIGN(r.body, m_ctx.blobs.get_bytes(digest));
    return r;
  }

  Result<HttpResponse> list_tasks(HttpRequest& req) {
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

  Result<HttpResponse> post_scalars(HttpRequest& req) {
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

  Result<HttpResponse> get_series(HttpRequest& req) {
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

  ApiContext& m_ctx;
};

}  // namespace

void add_api_routes(Router& router, ApiContext& ctx) {
  // The Api object lives as long as the routes that capture it.
  auto api = std::make_shared<Api>(ctx);
  api->add(router);
  // Handlers capture `this`; keep the object alive for as long as the router is.
  router.keep_alive(api);
}

}  // namespace rh::api

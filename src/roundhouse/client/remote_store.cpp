#include "roundhouse/client/remote_store.h"

#include <nlohmann/json.hpp>

#include "roundhouse/api/file_list.h"
#include "roundhouse/api/scalar_body.h"
#include "roundhouse/client/http_client.h"
#include "roundhouse/client/remote_blob_store.h"
#include "roundhouse/client/rest_calls.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/json.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh {

namespace {

std::string task_path(const std::string& id) {
  return "/api/v1/tasks/" + url_encode(id);
}

class RemoteProjects final : public ProjectStore {
 public:
  explicit RemoteProjects(HttpClient& c) : m_c(c) {}
  Result<std::vector<Project>> list() override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/projects"));
    std::vector<Project> out;
    RH_TRY(list_from_json(j["projects"], "projects", out));
    return out;
  }
  Result<Project> get(const std::string& name) override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/projects/" + url_encode(name)));
    return decode<Project>(j, "project");
  }
  Result<Project> ensure(const std::string& name, const std::string& description) override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", "/api/v1/projects",
                                    Json{{"name", name}, {"description", description}}));
    return decode<Project>(j, "project");
  }

 private:
  HttpClient& m_c;
};

class RemoteTasks final : public TaskStore {
 public:
  explicit RemoteTasks(HttpClient& c) : m_c(c) {}

  Result<Task> create(const NewTask& t) override {
    Json body = to_json(t);
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", "/api/v1/tasks", body));
    return decode<Task>(j, "task");
  }
  Result<Task> get(const std::string& id) override {
    RH_TRY(check_full_id(id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", task_path(id)));
    return decode<Task>(j, "task");
  }
  Result<std::string> resolve(const std::string& prefix) override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", task_path(prefix)));
    return j.value("id", "");
  }
  Result<TaskPage> list(const TaskQuery& q) override {
    std::string qs = "?limit=" + std::to_string(q.limit) + "&order_by=" + url_encode(q.order_by) +
                     "&order=" + (q.descending ? "desc" : "asc");
    if (q.project)
      qs += "&project=" + url_encode(*q.project);
    for (auto s : q.statuses)
      qs += "&status=" + std::string(to_string(s));
    for (const auto& t : q.tags)
      qs += "&tag=" + url_encode(t);
    if (q.name_contains)
      qs += "&name=" + url_encode(*q.name_contains);
    if (q.parent)
      qs += "&parent=" + url_encode(*q.parent);
    if (!q.cursor.empty())
      qs += "&cursor=" + url_encode(q.cursor);
    for (const auto& f : q.filters)
      qs += "&filter=" + url_encode(to_string(f));
    for (const auto& [a, b] : q.with_params)
      qs += "&param=" + url_encode(a + "/" + b);
    for (const auto& [a, b] : q.with_metrics)
      qs += "&metric=" + url_encode(a + "/" + b);
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/tasks" + qs));
    TaskPage page;
    RH_TRY(list_from_json(j["tasks"], "tasks", page.tasks));
    if (j["next_cursor"].is_string())
      page.next_cursor = j["next_cursor"].get<std::string>();
    return page;
  }
  Result<TaskKeys> keys(const std::optional<std::string>& project) override {
    std::string qs = project ? "?project=" + url_encode(*project) : "";
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/keys" + qs));
    TaskKeys out;
    for (auto [field, into] : {std::pair{"params", &out.params}, {"metrics", &out.metrics}}) {
      std::vector<std::string> names;
      RH_TRY(read_string_list(j, field, "keys", names));
      for (const auto& n : names) {
        auto slash = n.find('/');
        if (slash == std::string::npos)
          return make_error(ErrorCode::internal, std::string("keys.") + field + ": bad name " + n);
        into->emplace_back(n.substr(0, slash), n.substr(slash + 1));
      }
    }
    return out;
  }
  Result<Task> update(const std::string& id, const TaskPatch& p) override {
    RH_TRY(check_full_id(id));
    Json body = Json::object();
    if (p.name)
      body["name"] = *p.name;
    if (p.comment)
      body["comment"] = *p.comment;
    if (p.script)
      body["script"] = to_json(*p.script);
    if (p.environment)
      body["environment"] = to_json(*p.environment);
    if (p.runtime)
      body["runtime"] = string_map_to_json(*p.runtime);
    RH_TRY_ASSIGN(Json j, call_json(m_c, "PATCH", task_path(id), body));
    return decode<Task>(j, "task");
  }
  Result<Task> set_status(const std::string& id, TaskStatus to,
                          const std::string& message) override {
    RH_TRY(check_full_id(id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(id) + "/status",
                                    Json{{"status", to_string(to)}, {"message", message}}));
    return decode<Task>(j, "task");
  }
  Result<Task> change_tags(const std::string& id, const std::vector<std::string>& add,
                           const std::vector<std::string>& remove) override {
    RH_TRY(check_full_id(id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(id) + "/tags",
                                    Json{{"add", add}, {"remove", remove}}));
    return decode<Task>(j, "task");
  }
  Status set_hyperparameters(const std::string& id, const std::vector<Hyperparameter>& params,
                             bool replace_sections) override {
    RH_TRY(check_full_id(id));
    Json list = Json::array();
    for (const auto& h : params)
      list.push_back(to_json(h));
    RH_TRY(call_json(m_c, "PUT", task_path(id) + "/hyperparameters",
                     Json{{"hyperparameters", list}, {"replace_sections", replace_sections}}));
    return {};
  }
  Status set_configuration(const std::string& id, const Configuration& c) override {
    RH_TRY(check_full_id(id));
    RH_TRY(call_json(m_c, "PUT", task_path(id) + "/configurations/" + url_encode(c.name),
                     Json{{"value", c.value}, {"description", c.description}}));
    return {};
  }
  Status remove(const std::string& id) override {
    RH_TRY(check_full_id(id));
    RH_TRY(call_json(m_c, "DELETE", task_path(id)));
    return {};
  }

  // The store interface takes full IDs; the server would resolve a prefix, so
  // refuse one here to keep local and remote behaviour the same.
  static Status check_full_id(const std::string& id) {
    if (id.size() != 32)
      return make_error(ErrorCode::not_found, "no task with ID " + id);
    return {};
  }

 private:
  HttpClient& m_c;
};

class RemoteScalars final : public ScalarStore {
 public:
  explicit RemoteScalars(HttpClient& c) : m_c(c) {}
  Status append(const std::string& task_id, std::vector<ScalarSeries> batch,
                const std::string& request_key) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    for (const auto& s : batch) {
      if (s.steps.size() != s.values.size() ||
          (!s.times.empty() && s.times.size() != s.values.size())) {
        return make_error(ErrorCode::invalid_argument,
                          "scalar " + s.title + "/" + s.series +
                              ": iterations, values and times must have the same length");
      }
    }
    RH_TRY(validate_request_key(request_key));
    RH_TRY(m_c.call("POST", task_path(task_id) + "/scalars", api::encode_scalar_binary(batch),
                    "application/x-rh-scalars", key_header(request_key)));
    return {};
  }
  Result<std::vector<SeriesSummary>> summaries(const std::string& task_id) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", task_path(task_id) + "/scalars"));
    std::vector<SeriesSummary> out;
    RH_TRY(list_from_json(j["scalars"], "scalars", out));
    return out;
  }
  Result<ScalarSeries> read(const std::string& task_id, const std::string& title,
                            const std::string& series, const ScalarReadOptions& opt) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    std::string qs = "?title=" + url_encode(title) + "&series=" + url_encode(series) +
                     "&max_points=" + std::to_string(opt.max_points);
    if (opt.min_step)
      qs += "&min_iteration=" + std::to_string(*opt.min_step);
    if (opt.max_step)
      qs += "&max_iteration=" + std::to_string(*opt.max_step);
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", task_path(task_id) + "/scalars/series" + qs));
    ScalarSeries s;
    s.title = title;
    s.series = series;
    for (const auto& v : j["iterations"])
      s.steps.push_back(v.get<int64_t>());
    for (size_t i = 0; i < j["values"].size(); ++i) {
      RH_TRY_ASSIGN(double v, json_to_double(j["values"][i], "values"));
      s.values.push_back(v);
    }
    for (const auto& v : j["times"])
      s.times.push_back(v.get<double>());
    return s;
  }

 private:
  HttpClient& m_c;
};

class RemoteConsole final : public ConsoleStore {
 public:
  explicit RemoteConsole(HttpClient& c) : m_c(c) {}
  Result<int64_t> append(const std::string& task_id, std::vector<ConsoleLine> lines,
                         const std::string& request_key) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    Json arr = Json::array();
    for (const auto& l : lines) {
      Json e = to_json(l);
      e.erase("seq");
      arr.push_back(std::move(e));
    }
    RH_TRY(validate_request_key(request_key));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(task_id) + "/console",
                                    Json{{"lines", arr}}, key_header(request_key)));
    return j.value("last_seq", int64_t{0});
  }
  Result<std::vector<ConsoleLine>> read(const std::string& task_id, int64_t after,
                                        int limit) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET",
                                    task_path(task_id) + "/console?after=" + std::to_string(after) +
                                        "&limit=" + std::to_string(limit)));
    std::vector<ConsoleLine> out;
    RH_TRY(list_from_json(j["lines"], "lines", out));
    return out;
  }

 private:
  HttpClient& m_c;
};

class RemoteArtifacts final : public ArtifactStore {
 public:
  explicit RemoteArtifacts(HttpClient& c) : m_c(c) {}
  Result<Artifact> put(const std::string& task_id, const Artifact& a) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    Json body = to_json(a);
    body.erase("created");
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(task_id) + "/artifacts", body));
    return decode<Artifact>(j, "artifact");
  }
  Result<std::vector<Artifact>> list(const std::string& task_id) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", task_path(task_id) + "/artifacts"));
    std::vector<Artifact> out;
    RH_TRY(list_from_json(j["artifacts"], "artifacts", out));
    return out;
  }
  Result<Artifact> get(const std::string& task_id, const std::string& name) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    std::string path;
    for (const auto& part : split_name(name))
      path += "/" + url_encode(part);
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", task_path(task_id) + "/artifacts" + path));
    return decode<Artifact>(j, "artifact");
  }
  Status remove(const std::string& task_id, const std::string& name) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    std::string path;
    for (const auto& part : split_name(name))
      path += "/" + url_encode(part);
    RH_TRY(call_json(m_c, "DELETE", task_path(task_id) + "/artifacts" + path));
    return {};
  }
  Result<Model> add_model(const Model& m) override {
    RH_TRY(RemoteTasks::check_full_id(m.task_id));
    Json body = to_json(m);
    body.erase("id");
    body.erase("created");
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(m.task_id) + "/models", body));
    return decode<Model>(j, "model");
  }
  Result<std::vector<Model>> models(const std::string& task_id) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", task_path(task_id) + "/models"));
    std::vector<Model> out;
    RH_TRY(list_from_json(j["models"], "models", out));
    return out;
  }

 private:
  static std::vector<std::string> split_name(const std::string& name) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
      auto pos = name.find('/', start);
      out.push_back(name.substr(start, pos - start));
      if (pos == std::string::npos)
        break;
      start = pos + 1;
    }
    return out;
  }
  HttpClient& m_c;
};

class RemotePlots final : public PlotStore {
 public:
  explicit RemotePlots(HttpClient& c) : m_c(c) {}
  Result<Plot> add(const std::string& task_id, const Plot& p) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json data, parse_json(p.data, "plot data"));
    Json body = to_json(p);
    body["data"] = data;
    body.erase("id");
    body.erase("created");
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(task_id) + "/plots", body));
    return decode<Plot>(j, "plot");
  }
  Result<std::vector<Plot>> list(const std::string& task_id, const std::string& kind, int64_t after,
                                 int limit) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET",
                                    task_path(task_id) + "/plots?kind=" + url_encode(kind) +
                                        "&after=" + std::to_string(after) +
                                        "&limit=" + std::to_string(limit)));
    std::vector<Plot> out;
    RH_TRY(list_from_json(j["plots"], "plots", out));
    return out;
  }

 private:
  HttpClient& m_c;
};

class RemoteQueues final : public QueueStore {
 public:
  explicit RemoteQueues(HttpClient& c) : m_c(c) {}
  Result<Queue> create(const std::string& name, bool requeue_on_lost) override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", "/api/v1/queues",
                                    Json{{"name", name}, {"requeue_on_lost", requeue_on_lost}}));
    return decode<Queue>(j, "queue");
  }
  Result<std::vector<Queue>> list() override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/queues"));
    std::vector<Queue> out;
    RH_TRY(list_from_json(j["queues"], "queues", out));
    return out;
  }
  Result<Queue> get(const std::string& name) override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/queues/" + url_encode(name)));
    return decode<Queue>(j, "queue");
  }
  Status remove(const std::string& name) override {
    return status_of(call_json(m_c, "DELETE", "/api/v1/queues/" + url_encode(name)));
  }
  Result<Task> enqueue(const std::string& task_id, const std::string& queue,
                       int64_t priority) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(task_id) + "/enqueue",
                                    Json{{"queue", queue}, {"priority", priority}}));
    return decode<Task>(j, "task");
  }
  Result<Task> dequeue(const std::string& task_id) override {
    RH_TRY(RemoteTasks::check_full_id(task_id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", task_path(task_id) + "/dequeue", Json::object()));
    return decode<Task>(j, "task");
  }
  Result<std::vector<QueueEntry>> entries(const std::string& queue, int limit) override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET",
                                    "/api/v1/queues/" + url_encode(queue) +
                                        "/entries?limit=" + std::to_string(limit)));
    std::vector<QueueEntry> out;
    RH_TRY(list_from_json(j["entries"], "entries", out));
    return out;
  }
  Result<std::optional<Task>> take(const std::vector<std::string>& queues,
                                   const std::string& worker) override {
    return take_waiting(queues, worker, 0);
  }
  // The long-poll form: waits up to timeout_s on the server for a task.
  Result<std::optional<Task>> take_waiting(const std::vector<std::string>& queues,
                                           const std::string& worker, int timeout_s) {
    RH_TRY_ASSIGN(Json j,
                  call_json(m_c, "POST", "/api/v1/queues/take",
                            Json{{"queues", queues}, {"worker", worker}, {"timeout", timeout_s}}));
    if (!j.contains("task") || j["task"].is_null())
      return std::optional<Task>{};
    RH_TRY_ASSIGN(Task t, decode<Task>(j["task"], "task"));
    return std::optional<Task>{std::move(t)};
  }
  Status heartbeat(const Worker& w) override {
    Json body = to_json(w);
    body.erase("registered");
    body.erase("last_heartbeat");
    return status_of(
        call_json(m_c, "POST", "/api/v1/workers/" + url_encode(w.name) + "/heartbeat", body));
  }
  Result<std::vector<Worker>> workers() override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/workers"));
    std::vector<Worker> out;
    RH_TRY(list_from_json(j["workers"], "workers", out));
    return out;
  }
  Status unregister(const std::string& worker) override {
    return status_of(call_json(m_c, "DELETE", "/api/v1/workers/" + url_encode(worker)));
  }
  Result<std::vector<LostTask>> reap_workers(double) override {
    return make_error(ErrorCode::invalid_argument,
                      "the server reaps silent workers itself; a client cannot");
  }

 private:
  HttpClient& m_c;
};

class RemoteDatasets final : public DatasetStore {
 public:
  explicit RemoteDatasets(HttpClient& c) : m_c(c) {}
  static std::string path(const std::string& id) { return "/api/v1/datasets/" + url_encode(id); }
  Result<DatasetVersion> create(const NewDatasetVersion& v) override {
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", "/api/v1/datasets",
                                    Json{{"project", v.project},
                                         {"name", v.name},
                                         {"version", v.version},
                                         {"parents", v.parents},
                                         {"tags", v.tags},
                                         {"task_id", v.task_id}}));
    return decode<DatasetVersion>(j, "dataset");
  }
  Result<DatasetVersion> get(const std::string& id) override {
    RH_TRY(check_id(id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", path(id)));
    return decode<DatasetVersion>(j, "dataset");
  }
  Result<std::string> resolve(const std::string& prefix) override {
    if (prefix.size() < 4 || !is_hex(prefix)) {
      return make_error(ErrorCode::invalid_argument,
                        "dataset version ID \"" + prefix + "\" must be at least 4 hex digits");
    }
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", path(prefix)));
    return j.value("id", std::string());
  }
  Result<std::vector<DatasetVersion>> list(const DatasetQuery& q) override {
    std::string qs = "?limit=" + std::to_string(q.limit) + (q.final_only ? "&final=1" : "");
    if (q.project)
      qs += "&project=" + url_encode(*q.project);
    if (q.name)
      qs += "&name=" + url_encode(*q.name);
    if (q.version)
      qs += "&version=" + url_encode(*q.version);
    for (const auto& t : q.tags)
      qs += "&tag=" + url_encode(t);
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", "/api/v1/datasets" + qs));
    std::vector<DatasetVersion> out;
    RH_TRY(list_from_json(j["datasets"], "datasets", out));
    return out;
  }
  Status put_files(const std::string& id, const std::vector<DatasetFile>& files) override {
    RH_TRY(check_id(id));
    RH_TRY(change_list(id, files, {}));
    return {};
  }
  // One request, so one write on the server: the slices are staged in a
  // temporary file first (a change of any size costs disk, not memory).
  Result<int64_t> change_files(const std::string& id,
                               const std::function<Result<bool>(FileChanges&)>& next) override {
    RH_TRY(check_id(id));
    RH_TRY_ASSIGN(auto file, AtomicFile::create("/tmp/rh-changes", "/tmp"));
    FileChanges c;
    std::string text;
    while (true) {
      c.put.clear();
      c.gone.clear();
      RH_TRY_ASSIGN(bool more, next(c));
      if (!more)
        break;
      text.clear();
      api::append_file_changes(text, c);
      RH_TRY(file.write(text.data(), text.size()));
    }
    return send_changes(id, file.temp_path());
  }
  Result<int64_t> remove_files(const std::string& id, const std::string& pattern) override {
    RH_TRY(check_id(id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "POST", path(id) + "/remove", Json{{"pattern", pattern}}));
    return j.value("removed", int64_t{0});
  }
  Result<int64_t> remove_paths(const std::string& id,
                               const std::vector<std::string>& paths) override {
    RH_TRY(check_id(id));
    return change_list(id, {}, paths);
  }
  Result<std::vector<DatasetFile>> files(const std::string& id, const std::string& after,
                                         int limit) override {
    RH_TRY(check_id(id));
    RH_TRY_ASSIGN(
        std::string text,
        m_c.call("GET",
                 path(id) + "/files?after=" + url_encode(after) + "&limit=" + std::to_string(limit),
                 {}, "application/json", {std::string("Accept: ") + api::k_file_list_type}));
    std::vector<DatasetFile> out;
    out.reserve(static_cast<size_t>(limit));
    RH_TRY(api::read_file_list(text, out));
    return out;
  }
  Result<DatasetSummary> summarize(const std::string& id) override {
    RH_TRY(check_id(id));
    RH_TRY_ASSIGN(Json j, call_json(m_c, "GET", path(id) + "/summary"));
    return decode<DatasetSummary>(j, "summary");
  }
  Result<DatasetVersion> finalize(const std::string& id, const std::string& manifest) override {
    RH_TRY(check_id(id));
    RH_TRY_ASSIGN(Json j,
                  call_json(m_c, "POST", path(id) + "/finalize", Json{{"manifest", manifest}}));
    return decode<DatasetVersion>(j, "dataset");
  }
  Result<DatasetVersion> change_tags(const std::string& id, const std::vector<std::string>& add,
                                     const std::vector<std::string>& remove) override {
    RH_TRY(check_id(id));
    RH_TRY_ASSIGN(
        Json j, call_json(m_c, "POST", path(id) + "/tags", Json{{"add", add}, {"remove", remove}}));
    return decode<DatasetVersion>(j, "dataset");
  }
  Status remove(const std::string& id) override {
    RH_TRY(check_id(id));
    return status_of(call_json(m_c, "DELETE", path(id)));
  }

 private:
  static Status check_id(const std::string& id) {
    if (id.size() != 32 || !is_hex(id)) {
      return make_error(ErrorCode::invalid_argument,
                        "dataset version ID must be 32 hex digits (resolve prefixes first)");
    }
    return {};
  }
  // One PUT of a staged change list: the server applies it in one write.
  Result<int64_t> send_changes(const std::string& id, const std::string& list_file) {
    RH_TRY_ASSIGN(std::string body, m_c.upload_file(path(id) + "/changes", list_file));
    RH_TRY_ASSIGN(Json j, parse_json(body, "change list response"));
    return j.value("removed", int64_t{0});
  }
  Result<int64_t> change_list(const std::string& id, const std::vector<DatasetFile>& put,
                              const std::vector<std::string>& gone) {
    bool sent = false;
    return change_files(id, [&](FileChanges& c) -> Result<bool> {
      if (sent)
        return false;
      sent = true;
      c.put = put;
      c.gone = gone;
      return true;
    });
  }
  HttpClient& m_c;
};

// Only the server, which sees every reference, collects blobs.
class RemoteBlobOrphans final : public BlobOrphans {
 public:
  Result<std::vector<std::string>> removable(double, int) override { return refuse(); }
  Status forget(const std::vector<std::string>&) override { return refuse(); }
  Status refresh(const std::vector<std::string>&) override { return refuse(); }
  Result<std::vector<std::string>> memberless_manifests() override { return refuse(); }

 private:
  static std::unexpected<Error> refuse() {
    return make_error(ErrorCode::invalid_argument,
                      "blobs are collected by the server itself, not by its clients");
  }
};

// POST /blobs/aliases records, /blobs/aliases/lookup reads; 10,000 a request.
class RemoteBlobAliases final : public BlobAliases {
 public:
  explicit RemoteBlobAliases(HttpClient& c) : m_c(c) {}
  Status put(const std::vector<std::pair<std::string, std::string>>& md5_to_digest) override {
    return in_slices(md5_to_digest, 10000, [&](const auto& part) -> Status {
      Json aliases = Json::object();
      for (const auto& [md5, digest] : part)
        aliases[md5] = digest;
      return status_of(call_json(m_c, "POST", "/api/v1/blobs/aliases", Json{{"aliases", aliases}}));
    });
  }
  Result<std::vector<std::pair<std::string, std::string>>> lookup(
      const std::vector<std::string>& md5s) override {
    std::vector<std::pair<std::string, std::string>> out;
    RH_TRY(in_slices(md5s, 10000, [&](const std::vector<std::string>& part) -> Status {
      RH_TRY_ASSIGN(Json j,
                    call_json(m_c, "POST", "/api/v1/blobs/aliases/lookup", Json{{"md5", part}}));
      if (!j.contains("aliases") || !j["aliases"].is_object())
        return make_error(ErrorCode::corrupt, "alias lookup: the answer has no aliases object");
      for (const auto& [k, v] : j["aliases"].items()) {
        if (!v.is_string())
          return make_error(ErrorCode::corrupt, "alias lookup: " + k + " is not a digest");
        out.emplace_back(k, v.get<std::string>());
      }
      return {};
    }));
    return out;
  }

 private:
  HttpClient& m_c;
};

class RemoteStore final : public MetadataStore {
 public:
  explicit RemoteStore(std::shared_ptr<HttpClient> c)
      : m_c(std::move(c)),
        m_projects(*m_c),
        m_tasks(*m_c),
        m_scalars(*m_c),
        m_console(*m_c),
        m_artifacts(*m_c),
        m_plots(*m_c),
        m_queues(*m_c),
        m_datasets(*m_c),
        m_aliases(*m_c) {}
  ProjectStore& projects() override { return m_projects; }
  TaskStore& tasks() override { return m_tasks; }
  ScalarStore& scalars() override { return m_scalars; }
  ConsoleStore& console() override { return m_console; }
  ArtifactStore& artifacts() override { return m_artifacts; }
  PlotStore& plots() override { return m_plots; }
  QueueStore& queues() override { return m_queues; }
  DatasetStore& datasets() override { return m_datasets; }
  BlobOrphans& blob_orphans() override { return m_orphans; }
  BlobAliases& blob_aliases() override { return m_aliases; }
  void close() override {}

 private:
  std::shared_ptr<HttpClient> m_c;
  RemoteProjects m_projects;
  RemoteTasks m_tasks;
  RemoteScalars m_scalars;
  RemoteConsole m_console;
  RemoteArtifacts m_artifacts;
  RemotePlots m_plots;
  RemoteQueues m_queues;
  RemoteDatasets m_datasets;
  RemoteBlobOrphans m_orphans;
  RemoteBlobAliases m_aliases;
};

}  // namespace

Result<RemoteStores> open_remote(const std::string& base_url, const std::string& token) {
  if (base_url.rfind("http://", 0) != 0) {
    return make_error(ErrorCode::invalid_argument,
                      "RH_SERVER must be an http:// URL, got \"" + base_url + "\"");
  }
  auto client = std::make_shared<HttpClient>(base_url, token);
  RH_TRY(client->call("GET", "/api/v1/health"));
  RemoteStores out;
  out.store = std::make_unique<RemoteStore>(client);
  out.blobs = make_remote_blob_store(client);
  return out;
}

}  // namespace rh
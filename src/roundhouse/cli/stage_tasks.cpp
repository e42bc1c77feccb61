#include "roundhouse/cli/stage_tasks.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "roundhouse/pipeline/metrics.h"
#include "roundhouse/run/capture.h"
#include "roundhouse/run/recorder.h"
#include "roundhouse/store/metadata_store.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

Json json_of(const pipeline::YValue& v) {
  return std::visit(
      [](const auto& x) -> Json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, pipeline::YSeq>) {
          Json a = Json::array();
          for (const auto& e : x)
            a.push_back(json_of(e));
          return a;
        } else if constexpr (std::is_same_v<T, pipeline::YMap>) {
          Json o = Json::object();
          for (const auto& [k, e] : x)
            o[k] = json_of(e);
          return o;
        } else {
          return Json(x);
        }
      },
      v.v);
}

// A locked param value as hyperparameters: a mapping flattened with '.',
// a list as its JSON text.
void add_param(std::vector<Hyperparameter>& out, const std::string& section,
               const std::string& name, const pipeline::YValue& v) {
  if (const auto* m = std::get_if<pipeline::YMap>(&v.v)) {
    for (const auto& [k, x] : *m)
      add_param(out, section, name.empty() ? k : name + "." + k, x);
    return;
  }
  Hyperparameter h;
  h.section = section;
  h.name = name;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          h.value = "null";
          h.type = "NoneType";
        } else if constexpr (std::is_same_v<T, bool>) {
          h.value = x ? "true" : "false";
          h.type = "bool";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          h.value = std::to_string(x);
          h.type = "int";
        } else if constexpr (std::is_same_v<T, double>) {
          h.value = Json(x).dump();
          h.type = "float";
        } else if constexpr (std::is_same_v<T, std::string>) {
          h.value = x;
          h.type = "str";
        } else {
          h.value = json_of(v).dump();
          h.type = "list";
        }
      },
      v.v);
  out.push_back(std::move(h));
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

struct StageTasks::Impl {
  MetadataStore& store;
  Env& env;
  const pipeline::Project& p;
  std::string project;
  std::string adopt;  // the task the one stage's record goes to; empty: new tasks
  std::mutex mu;
  std::string run_id;
  Script code;  // captured with the run's task
  bool warned = false;
  struct Running {
    std::string id;
    std::unique_ptr<Recorder> rec;
    double start = 0;
  };
  std::map<std::string, Running> stages;  // by stage name

  Impl(MetadataStore& s, Env& e, const pipeline::Project& proj, std::string name,
       std::string adopted)
      : store(s), env(e), p(proj), project(std::move(name)), adopt(std::move(adopted)) {}

  void warn(const Error& e) {
    if (warned)
      return;
    warned = true;
    std::fprintf(stderr, "rh: cannot record the pipeline's run as tasks: %s\n", e.message.c_str());
  }

  // The run's task, created with the first stage (under mu).
  Status ensure_run() {
    if (!run_id.empty())
      return {};
    code = capture_script({"sh", "-c", "rh repro"}, p.root);
    NewTask t;
    t.project = project;
    t.name = p.file.path;
    t.type = TaskType::controller;
    t.tags = {"pipeline"};
    t.script = code;
    t.script.entry_point = "rh repro";
    t.script.working_dir = ".";
    // The whole graph, for the UI's Pipeline tab (stages that do not run
    // have no task).
    Json dag = Json::array();
    for (size_t i = 0; i < p.dag.stages.size(); ++i) {
      Json after = Json::array();
      for (size_t a : p.dag.after[i])
        after.push_back(p.dag.stages[a].name);
      dag.push_back({{"name", p.dag.stages[i].name}, {"after", after}});
    }
    t.configurations.push_back({"dag", Json{{"stages", dag}}.dump(), "the stages and their order"});
    RH_TRY_ASSIGN(Task task, store.tasks().create(t));
    RH_TRY(store.tasks().set_status(task.id, TaskStatus::running, ""));
    run_id = task.id;
    std::fprintf(stderr, "rh: recording the pipeline run as task %s (%s/%s)\n", run_id.c_str(),
                 project.c_str(), t.name.c_str());
    return {};
  }

  Status start(const pipeline::Stage& s, const pipeline::StageStatus& why) {
    std::lock_guard lk(mu);
    if (!adopt.empty()) {
      Running r;
      r.id = adopt;
      r.rec = std::make_unique<Recorder>(store, env, adopt);
      r.start = now_s();
      stages[s.name] = std::move(r);
      return {};
    }
    RH_TRY(ensure_run());
    NewTask t;
    t.project = project;
    t.name = s.name;
    t.type = TaskType::data_processing;
    t.tags = {"pipeline"};
    t.parent = run_id;
    t.comment = s.desc;
    t.script = code;
    t.script.entry_point = join(s.cmd, " && ");
    t.script.working_dir = s.wdir;
    t.script.argv = {"sh", "-c", t.script.entry_point};
    std::string what;
    if (why.never_run)
      what += "never run; ";
    if (why.command)
      what += "command changed; ";
    for (const auto& [k, v] : why.deps)
      what += "dep " + k + " " + v + "; ";
    for (const auto& [k, v] : why.params)
      what += "param " + k + " " + v + "; ";
    for (const auto& [k, v] : why.outs)
      what += "out " + k + " " + v + "; ";
    if (why.always)
      what += "always changed; ";
    if (!what.empty())
      t.configurations.push_back(
          {"why", what.substr(0, what.size() - 2), "What differed from the lock"});
    RH_TRY_ASSIGN(Task task, store.tasks().create(t));
    RH_TRY(store.tasks().set_status(task.id, TaskStatus::running, ""));
    Running r;
    r.id = task.id;
    r.rec = std::make_unique<Recorder>(store, env, task.id);
    r.start = now_s();
    stages[s.name] = std::move(r);
    return {};
  }

  Status finish(const pipeline::Stage& s, const Status& result, const pipeline::StageLock* entry) {
    Running r;
    {
      std::lock_guard lk(mu);
      auto it = stages.find(s.name);
      if (it == stages.end())
        return {};
      r = std::move(it->second);
      stages.erase(it);
    }
    // Each part recorded even when an earlier one failed: the task always ends.
    Status first;
    auto keep = [&](Status st) {
      if (!st && first)
        first = std::move(st);
    };
    if (entry) {
      std::vector<Hyperparameter> hp;
      for (const auto& [file, keys] : entry->params)
        if (const auto* m = std::get_if<pipeline::YMap>(&keys.v))
          for (const auto& [k, v] : *m)
            add_param(hp, file, k, v);
      if (!hp.empty())
        keep(store.tasks().set_hyperparameters(r.id, hp, false));
      std::string deps;
      for (const auto& d : entry->deps)
        deps += d.md5 + "  " + d.path + "\n";
      if (!deps.empty())
        keep(store.tasks().set_configuration(r.id, {"deps", deps, "md5 and path of each dep"}));
      // The stage's metric files, read as `rh metrics show` reads them.
      if (auto values = pipeline::metrics_at(p, "workspace")) {
        double t = now_s();
        for (const auto& o : s.outs) {
          auto f = o.kind == pipeline::Out::Kind::metric ? values->find(o.rel) : values->end();
          if (f == values->end())
            continue;
          for (const auto& [k, v] : f->second)
            if (v.is_number() || v.is_boolean())
              r.rec->scalar(o.rel, k, 0, v.is_boolean() ? double(v.get<bool>()) : v.get<double>(),
                            t);
        }
      }
    }
    keep(r.rec->finish());
    TaskPatch patch;
    patch.runtime = std::map<std::string, std::string>{
        {"stage", s.name},
        {"pipeline", p.file.path},
        {"wall_time_s", Json(std::round((now_s() - r.start) * 1000) / 1000).dump()}};
    keep(status_of(store.tasks().update(r.id, patch)));
    if (adopt.empty())
      keep(status_of(store.tasks().set_status(r.id,
                                              result ? TaskStatus::completed : TaskStatus::failed,
                                              result ? "" : result.error().message)));
    return first;
  }
};

StageTasks::StageTasks(MetadataStore& store, Env& env, const pipeline::Project& p,
                       std::string project, std::string adopt_task)
    : m(std::make_unique<Impl>(store, env, p, std::move(project), std::move(adopt_task))) {}

StageTasks::~StageTasks() = default;

void StageTasks::started(const pipeline::Stage& s, const pipeline::StageStatus& why) {
  if (auto st = m->start(s, why); !st) {
    std::lock_guard lk(m->mu);
    m->warn(st.error());
  }
}

void StageTasks::output(const pipeline::Stage& s, const std::string& line) {
  Recorder* rec = nullptr;
  {
    std::lock_guard lk(m->mu);
    auto it = m->stages.find(s.name);
    if (it != m->stages.end())
      rec = it->second.rec.get();
  }
  // The Recorder is thread-safe and lives until this stage's finished(). An
  // adopted task's console is the agent's to record.
  if (rec && m->adopt.empty())
    rec->console(ConsoleStream::stdout_stream, line + "\n");
}

void StageTasks::finished(const pipeline::Stage& s, const Status& result,
                          const pipeline::StageLock* entry) {
  if (auto st = m->finish(s, result, entry); !st) {
    std::lock_guard lk(m->mu);
    m->warn(st.error());
  }
}

void StageTasks::close(bool ok, const std::string& message) {
  std::lock_guard lk(m->mu);
  if (m->run_id.empty())
    return;
  auto st = m->store.tasks().set_status(m->run_id, ok ? TaskStatus::completed : TaskStatus::failed,
                                        message);
  if (!st)
    m->warn(st.error());
}

std::string StageTasks::run_id() const {
  std::lock_guard lk(m->mu);
  return m->run_id;
}

}  // namespace rh::cli

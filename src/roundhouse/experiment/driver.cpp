#include "roundhouse/experiment/driver.h"

#include <cmath>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>

#include "roundhouse/experiment/checkpoint_gc.h"
#include "roundhouse/experiment/records.h"
#include "roundhouse/search/searcher.h"
#include "roundhouse/util/json.h"

namespace rh::experiment {

namespace {

using search::Action;

// What the driver knows of one trial (kept in the experiment's runtime).
struct TrialState {
  std::string task;
  std::string desired = "train";  // train | pause | stop
  uint64_t until = 0;
  uint64_t reached = 0;  // the furthest searcher point fed
  int64_t seen = 0;      // searcher points fed (their count in the series)
  bool done = false;     // its end was fed to the searcher
};

struct State {
  bool started = false;
  Json search;
  std::map<int64_t, TrialState> trials;
  int64_t best_trial = 0;
  double best_metric = 0;
  uint64_t best_units = 0;
};

Json to_json(const State& s) {
  Json trials = Json::object();
  for (const auto& [n, t] : s.trials) {
    trials[std::to_string(n)] =
        Json{{"task", t.task},       {"desired", t.desired}, {"until", t.until},
             {"reached", t.reached}, {"seen", t.seen},       {"done", t.done}};
  }
  Json j{{"started", s.started}, {"search", s.search}, {"trials", trials}};
  if (s.best_trial)
    j["best"] = Json{{"trial", s.best_trial}, {"metric", s.best_metric}, {"units", s.best_units}};
  return j;
}

Result<State> load_state(const Task& exp) {
  State s;
  auto it = exp.runtime.find("search_state");
  if (it == exp.runtime.end() || it->second.empty())
    return s;
  RH_TRY_ASSIGN(Json j, parse_json(it->second, "experiment " + exp.id + " search_state"));
  try {
    s.started = j.at("started").get<bool>();
    s.search = j.at("search");
    for (const auto& [k, v] : j.at("trials").items()) {
      TrialState t;
      t.task = v.at("task").get<std::string>();
      t.desired = v.at("desired").get<std::string>();
      t.until = v.at("until").get<uint64_t>();
      t.reached = v.at("reached").get<uint64_t>();
      t.seen = v.at("seen").get<int64_t>();
      t.done = v.at("done").get<bool>();
      s.trials[std::stoll(k)] = t;
    }
    if (j.contains("best")) {
      s.best_trial = j["best"].at("trial").get<int64_t>();
      s.best_metric = j["best"].at("metric").get<double>();
      s.best_units = j["best"].at("units").get<uint64_t>();
    }
  } catch (const std::exception& e) {
    return make_error(ErrorCode::corrupt,
                      "experiment " + exp.id + ": search_state is damaged: " + e.what());
  }
  return s;
}

class Step {
 public:
  Step(MetadataStore& store, const Notify& notify, Task exp, Config config, State state,
       std::map<int64_t, Task> tasks)
      : m_store(store),
        m_notify(notify),
        m_exp(std::move(exp)),
        m_c(std::move(config)),
        m_s(std::move(state)),
        m_tasks(std::move(tasks)) {}

  Result<bool> run() {
    uint64_t seed = static_cast<uint64_t>(runtime_int(m_exp, "seed"));
    auto search = m_s.started
                      ? search::Search::restore(m_c.searcher, m_c.hyperparameters, m_s.search)
                      : search::Search::start(m_c.searcher, m_c.hyperparameters, seed ? seed : 1);
    if (!search)
      return std::unexpected(search.error());
    m_search = &*search;
    if (!m_s.started) {
      m_s.started = true;
      m_changed = true;
      RH_TRY(apply(m_search->initial_trials()));
    }
    RH_TRY(feed_events());
    RH_TRY(reconcile());
    RH_TRY(maybe_finish());
    if (m_changed) {
      m_s.search = m_search->snapshot();
      TaskPatch p;
      char progress[32];
      std::snprintf(progress, sizeof progress, "%.4f", m_search->progress());
      p.runtime = std::map<std::string, std::string>{{"search_state", to_json(m_s).dump()},
                                                     {"progress", progress}};
      if (m_s.best_trial) {
        (*p.runtime)["best_trial"] = std::to_string(m_s.best_trial);
        (*p.runtime)["best_task"] = m_s.trials[m_s.best_trial].task;
        (*p.runtime)["best_metric"] = fmt_double(m_s.best_metric);
      }
      RH_TRY(m_store.tasks().update(m_exp.id, p));
      m_notify(m_exp.id, false);
    }
    return m_changed;
  }

 private:
  static std::string fmt_double(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }

  bool active() const { return m_exp.status == TaskStatus::running; }
  std::string queue() const { return runtime_text(m_exp, "queue"); }

  Status set_runtime(const std::string& task, std::map<std::string, std::string> kv) {
    RH_TRY(experiment::set_runtime(m_store, task, std::move(kv)));
    m_notify(task, false);
    return {};
  }

  // A resumed trial (promoted, activated, restarted) goes before the fresh
  // ones of its experiment: finishing the promising trials first is what
  // ASHA's figures depend on (docs/benchmarks.md).
  Status enqueue(const std::string& task, bool resumed) {
    auto r =
        m_store.queues().enqueue(task, queue(), runtime_int(m_exp, "priority") + (resumed ? 1 : 0));
    if (r)
      m_notify(task, true);
    if (!r && r.error().code != ErrorCode::conflict)
      return std::unexpected(r.error());
    return {};
  }

  Status end_task(const std::string& task, TaskStatus to, const std::string& message) {
    auto r = m_store.tasks().set_status(task, to, message);
    if (r)
      m_notify(task, false);
    if (r)
      m_tasks[runtime_int(*r, "trial")] = *r;
    if (!r && r.error().code != ErrorCode::conflict)
      return std::unexpected(r.error());
    return {};
  }

  std::string exp_rt(const std::string& k) const { return runtime_text(m_exp, k); }
  bool clones() const { return !exp_rt("base_task").empty(); }

  // ClearML's way: a clone of the base task with the sampled values set.
  Result<Task> create_clone_trial(const Action& a) {
    RH_TRY_ASSIGN(Task base, m_store.tasks().get(exp_rt("base_task")));
    NewTask t;
    t.project = m_exp.project;
    t.name = base.name + " trial " + std::to_string(a.trial);
    t.type = base.type;
    t.comment = "trial " + std::to_string(a.trial) + " of experiment " + m_exp.id +
                ", a clone of " + base.id;
    t.tags = base.tags;
    t.parent = m_exp.id;
    t.script = base.script;
    t.environment = base.environment;
    t.hyperparameters = override_params(base.hyperparameters, a.hparams);
    t.configurations = base.configurations;
    RH_TRY_ASSIGN(Task made, m_store.tasks().create(t));
    RH_TRY(set_runtime(made.id, {{"kind", "clone_trial"},
                                 {"experiment", m_exp.id},
                                 {"trial", std::to_string(a.trial)},
                                 {"hparams", a.hparams.dump()},
                                 {"until", std::to_string(a.until)},
                                 {"base_task", base.id},
                                 {"metric_title", exp_rt("objective_title")},
                                 {"metric_series", exp_rt("objective_series")}}));
    return m_store.tasks().get(made.id);
  }

  Result<Task> create_trial(const Action& a) {
    if (clones())
      return create_clone_trial(a);
    NewTask t;
    t.project = m_exp.project;
    t.name = m_exp.name + " trial " + std::to_string(a.trial);
    t.type = TaskType::training;
    t.parent = m_exp.id;
    t.hyperparameters = flatten_hparams(a.hparams);
    RH_TRY_ASSIGN(Task made, m_store.tasks().create(t));
    Json entry =
        m_c.entrypoint_argv.empty() ? Json(m_c.entrypoint_shell) : Json(m_c.entrypoint_argv);
    Json env = Json::object();
    for (const auto& [k, v] : m_c.environment_variables)
      env[k] = v;
    std::map<std::string, std::string> rt{
        {"kind", "trial"},
        {"experiment", m_exp.id},
        {"trial", std::to_string(a.trial)},
        {"hparams", a.hparams.dump()},
        {"until", std::to_string(a.until)},
        {"max_length", std::to_string(m_c.searcher.max_length)},
        {"unit", m_c.length_unit},
        {"time_metric", m_c.determined_038 ? m_c.length_unit : ""},
        {"metric", m_c.searcher.metric},
        {"smaller_is_better", m_c.searcher.smaller_is_better ? "1" : "0"},
        {"entrypoint", entry.dump()},
        {"env", env.dump()},
        {"data", m_c.data.dump()},
        {"context", runtime_text(m_exp, "context")},
        {"max_restarts", std::to_string(m_c.max_restarts)},
        {"restarts", "0"},
        {"stop", ""},
        {"slots", std::to_string(m_c.slots_per_trial)},
        {"source_task", runtime_text(m_exp, "source_task")},
        {"source_checkpoint", runtime_text(m_exp, "source_checkpoint")}};
    RH_TRY(set_runtime(made.id, rt));
    return m_store.tasks().get(made.id);
  }

  Status apply(std::vector<Action> first) {
    std::deque<Action> todo(first.begin(), first.end());
    while (!todo.empty()) {
      Action a = todo.front();
      todo.pop_front();
      m_changed = true;
      switch (a.kind) {
        case Action::Kind::create: {
          auto existing = m_tasks.find(a.trial);
          if (existing == m_tasks.end()) {
            RH_TRY_ASSIGN(Task made, create_trial(a));
            existing = m_tasks.emplace(a.trial, std::move(made)).first;
          }
          TrialState& ts = m_s.trials[a.trial];
          ts.task = existing->second.id;
          ts.desired = "train";
          ts.until = a.until;
          for (auto& more : m_search->trial_created(a.trial))
            todo.push_back(std::move(more));
          break;
        }
        case Action::Kind::train: {
          TrialState& ts = m_s.trials[a.trial];
          ts.desired = "train";
          ts.until = a.until;
          RH_TRY(set_runtime(ts.task, {{"until", std::to_string(a.until)}}));
          break;
        }
        case Action::Kind::pause:
          m_s.trials[a.trial].desired = "pause";
          break;
        case Action::Kind::stop:
          m_s.trials[a.trial].desired = "stop";
          break;
      }
    }
    return {};
  }

  // fn(number, its state, its task) for each trial not yet ended (and listed).
  template <class Fn>
  Status each_live(Fn&& fn) {
    for (auto& [n, ts] : m_s.trials) {
      auto tit = m_tasks.find(n);
      if (ts.done || tit == m_tasks.end())
        continue;  // ended, or created but not listed yet
      RH_TRY(fn(n, ts, tit->second));
    }
    return {};
  }

  Status feed_events() {
    return each_live([&](int64_t n, TrialState& ts, const Task& task) -> Status {
      ScalarReadOptions opt;
      auto series =
          clones() ? m_store.scalars().read(task.id, exp_rt("objective_title"),
                                            exp_rt("objective_series"), opt)
                   : m_store.scalars().read(task.id, k_searcher_title, m_c.searcher.metric, opt);
      if (series && int64_t(series->steps.size()) > ts.seen) {
        for (size_t i = size_t(ts.seen); i < series->steps.size(); ++i) {
          uint64_t units = uint64_t(std::max<int64_t>(0, series->steps[i]));
          double v = series->values[i];
          ts.seen = int64_t(i + 1);
          m_changed = true;
          if (units <= ts.reached && ts.reached > 0)
            continue;  // the same length reported twice (validation and report_completed)
          ts.reached = units;
          if (!std::isnan(v)) {
            bool better =
                m_s.best_trial == 0 ||
                (m_c.searcher.smaller_is_better ? v < m_s.best_metric : v > m_s.best_metric);
            if (better) {
              m_s.best_trial = n;
              m_s.best_metric = v;
              m_s.best_units = units;
            }
          }
          RH_TRY(apply(m_search->validation(n, units, v)));
        }
      }
      if (is_final(task.status)) {
        ts.done = true;
        m_changed = true;
        std::vector<Action> next;
        if (runtime_text(task, "invalid_hp") == "1")
          next = m_search->trial_exited_early(n, search::ExitReason::invalid_hp);
        else if (task.status == TaskStatus::completed ||
                 (task.status == TaskStatus::aborted && ts.desired == "stop"))
          next = m_search->trial_exited(n);  // a clone stopped early is aborted
        else if (task.status == TaskStatus::aborted)
          next = m_search->trial_exited_early(n, search::ExitReason::user_canceled);
        else
          next = m_search->trial_exited_early(n, search::ExitReason::errored);
        RH_TRY(apply(std::move(next)));
      }
      return {};
    });
  }

  Status reconcile() {
    return each_live([&](int64_t, TrialState& ts, const Task& task) -> Status {
      std::string stop = runtime_text(task, "stop");
      switch (task.status) {
        case TaskStatus::running:
          if (is_clone_trial(task)) {
            // A clone cannot checkpoint: stopped early means ended now. A
            // pause lets it run on (it would start over).
            if (ts.desired == "stop")
              RH_TRY(end_task(task.id, TaskStatus::aborted, "stopped early by the searcher"));
          } else if (ts.desired == "pause" && stop.empty() && ts.reached >= ts.until) {
            // At its rung and not promoted: it need not wait for a next target.
            RH_TRY(set_runtime(task.id, {{"stop", "pause"}}));
          } else if (ts.desired == "stop" && stop != "stop" && stop != "cancel")
            RH_TRY(set_runtime(task.id, {{"stop", "stop"}}));
          else if (!active() && stop.empty())
            RH_TRY(set_runtime(task.id, {{"stop", "pause"}}));
          break;
        case TaskStatus::queued:
          if (ts.desired == "stop") {
            RH_TRY(end_task(task.id, TaskStatus::aborted, "stopped by the searcher before it ran"));
          } else if (!active()) {
            auto r = m_store.queues().dequeue(task.id);
            if (r)
              m_notify(task.id, false);
          }
          break;
        case TaskStatus::created:
        case TaskStatus::paused:
          if (ts.desired == "stop") {
            if (task.status == TaskStatus::paused)
              RH_TRY(end_task(task.id, TaskStatus::completed, "stopped by the searcher"));
            else
              RH_TRY(
                  end_task(task.id, TaskStatus::aborted, "stopped by the searcher before it ran"));
          } else if (active() && ts.desired == "train" &&
                     (ts.until > ts.reached || ts.reached == 0)) {
            if (!stop.empty())
              RH_TRY(set_runtime(task.id, {{"stop", ""}}));
            RH_TRY(enqueue(task.id, task.status == TaskStatus::paused));
          }
          break;
        default:
          break;
      }
      return {};
    });
  }

  Status maybe_finish() {
    if (!active() || !m_s.started)
      return {};
    bool all_done = true, any_going = false;
    for (const auto& [n, ts] : m_s.trials) {
      if (ts.done)
        continue;
      all_done = false;
      auto tit = m_tasks.find(n);
      if (tit == m_tasks.end() || ts.desired != "pause" ||
          (tit->second.status != TaskStatus::paused && tit->second.status != TaskStatus::created))
        any_going = true;
    }
    if (!all_done && !any_going) {
      // Only trials waiting for a promotion that can no longer come: they are done.
      for (auto& [n, ts] : m_s.trials) {
        if (!ts.done)
          RH_TRY(end_task(ts.task, TaskStatus::completed, "not promoted; the search has ended"));
      }
      m_changed = true;
      return {};  // the next step feeds their ends
    }
    if (all_done) {
      auto r = m_store.tasks().set_status(m_exp.id, TaskStatus::completed, "");
      if (!r && r.error().code != ErrorCode::conflict)
        return std::unexpected(r.error());
      m_notify(m_exp.id, false);
      m_changed = true;
    }
    return {};
  }

  MetadataStore& m_store;
  const Notify& m_notify;
  Task m_exp;
  Config m_c;
  State m_s;
  std::map<int64_t, Task> m_tasks;
  search::Search* m_search = nullptr;
  bool m_changed = false;
};

Result<Task> get_experiment(MetadataStore& store, const std::string& id) {
  RH_TRY_ASSIGN(Task exp, store.tasks().get(id));
  if (!is_experiment(exp))
    return make_error(ErrorCode::not_found, "task " + id + " is not an experiment");
  return exp;
}

Status refuse(const Task& exp, const std::string& what) {
  return make_error(ErrorCode::conflict, "experiment " + exp.id + " is " +
                                             std::string(to_string(exp.status)) + ": cannot " +
                                             what + " it");
}

// Every trial task not yet ended.
Result<std::vector<Task>> going_trials(MetadataStore& store, const std::string& id) {
  RH_TRY_ASSIGN(auto all, trial_tasks(store, id));
  std::erase_if(all, [](const Task& t) { return is_final(t.status); });
  return all;
}

}  // namespace

Result<bool> step_experiment(MetadataStore& store, const std::string& experiment_id,
                             const Notify& notify) {
  RH_TRY_ASSIGN(Task exp, get_experiment(store, experiment_id));
  if (is_final(exp.status) && runtime_text(exp, "checkpoints_collected") == "1")
    return false;
  RH_TRY_ASSIGN(auto list, trial_tasks(store, exp.id));
  // Trials that ended (by the last step, or the experiment's end) give up
  // the checkpoints the policy does not keep.
  RH_TRY_ASSIGN(int64_t collected, collect_checkpoints(store, exp, list));
  if (collected > 0)
    notify(exp.id, false);
  if (is_final(exp.status))
    return true;
  RH_TRY_ASSIGN(Config c, experiment_config(exp));
  RH_TRY_ASSIGN(State s, load_state(exp));
  std::map<int64_t, Task> tasks;
  for (auto& t : list) {
    int64_t n = runtime_int(t, "trial");
    tasks.emplace(n, std::move(t));
  }
  Step step(store, notify, std::move(exp), std::move(c), std::move(s), std::move(tasks));
  return step.run();
}

Status pause_experiment(MetadataStore& store, const std::string& id, const Notify& notify) {
  RH_TRY_ASSIGN(Task exp, get_experiment(store, id));
  if (exp.status != TaskStatus::running)
    return refuse(exp, "pause");
  RH_TRY(store.tasks().set_status(exp.id, TaskStatus::paused, "paused"));
  notify(exp.id, false);
  RH_TRY_ASSIGN(auto trials, going_trials(store, exp.id));
  for (const auto& t : trials) {
    if (t.status == TaskStatus::running) {
      RH_TRY(set_runtime(store, t.id, {{"stop", "pause"}}));
      notify(t.id, false);
    } else if (t.status == TaskStatus::queued) {
      if (store.queues().dequeue(t.id))
        notify(t.id, false);
    }
  }
  return {};
}

Status activate_experiment(MetadataStore& store, const std::string& id, const Notify& notify) {
  RH_TRY_ASSIGN(Task exp, get_experiment(store, id));
  if (exp.status != TaskStatus::paused)
    return refuse(exp, "activate");
  RH_TRY(store.tasks().set_status(exp.id, TaskStatus::running, ""));
  notify(exp.id, false);
  // Trials still running their pause (not yet checkpointed) go on instead.
  RH_TRY_ASSIGN(auto trials, going_trials(store, exp.id));
  for (const auto& t : trials) {
    if (t.status == TaskStatus::running && runtime_text(t, "stop") == "pause") {
      (void)set_runtime(store, t.id, {{"stop", ""}});
      notify(t.id, false);
    }
  }
  RH_TRY(step_experiment(store, id, notify));
  return {};
}

Status cancel_experiment(MetadataStore& store, const std::string& id, const Notify& notify) {
  RH_TRY_ASSIGN(Task exp, get_experiment(store, id));
  if (is_final(exp.status))
    return refuse(exp, "cancel");
  RH_TRY(store.tasks().set_status(exp.id, TaskStatus::aborted, "canceled"));
  notify(exp.id, false);
  RH_TRY_ASSIGN(auto trials, going_trials(store, exp.id));
  for (const auto& t : trials) {
    if (t.status == TaskStatus::running) {
      RH_TRY(set_runtime(store, t.id, {{"stop", "cancel"}}));
    } else {
      (void)store.tasks().set_status(t.id, TaskStatus::aborted, "the experiment was canceled");
    }
    notify(t.id, false);
  }
  return {};
}

Status kill_experiment(MetadataStore& store, const std::string& id, const Notify& notify) {
  RH_TRY_ASSIGN(Task exp, get_experiment(store, id));
  if (is_final(exp.status) && exp.status != TaskStatus::aborted)
    return refuse(exp, "kill");
  if (!is_final(exp.status)) {
    RH_TRY(store.tasks().set_status(exp.id, TaskStatus::aborted, "killed"));
    notify(exp.id, false);
  }
  RH_TRY_ASSIGN(auto trials, going_trials(store, exp.id));
  for (const auto& t : trials) {
    (void)store.tasks().set_status(t.id, TaskStatus::aborted, "the experiment was killed");
    notify(t.id, false);
  }
  return {};
}

}  // namespace rh::experiment

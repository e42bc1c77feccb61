#include "roundhouse/flow/task_dag.h"

#include <map>

#include "roundhouse/flow/task_pipeline.h"
#include "roundhouse/util/strings.h"

namespace rh::flow {

namespace {

// Every page of q (which it moves along).
Result<std::vector<Task>> list_every(MetadataStore& store, TaskQuery& q) {
  std::vector<Task> out;
  q.limit = 1000;
  for (;;) {
    RH_TRY_ASSIGN(TaskPage page, store.tasks().list(q));
    for (auto& t : page.tasks)
      out.push_back(std::move(t));
    if (page.next_cursor.empty())
      return out;
    q.cursor = page.next_cursor;
  }
}

int64_t number_or(const std::string& s, int64_t fallback) {
  try {
    size_t used = 0;
    int64_t v = std::stoll(s, &used);
    return used == s.size() ? v : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace

Result<std::vector<Task>> running_dag_runs(MetadataStore& store) {
  TaskQuery q;
  q.statuses = {TaskStatus::running};
  q.tags = {k_dag_tag};
  RH_TRY_ASSIGN(auto all, list_every(store, q));
  std::vector<Task> out;
  for (auto& t : all)
    if (runtime_value(t, k_dag_run) == "1")
      out.push_back(std::move(t));
  return out;
}

Result<std::vector<Task>> children_of(MetadataStore& store, const std::string& parent) {
  TaskQuery q{};
  q.parent = parent;
  q.descending = false;
  return list_every(store, q);
}

namespace {

bool retried(const Task& t) {
  return !runtime_value(t, "dag_retried").empty();
}

// A failed step with retries left: a fresh copy takes its place (the steps
// after it wait for the copy), the failed one stays as it ended.
Status retry_step(MetadataStore& store, const Task& failed, const std::vector<Task>& steps) {
  RH_TRY_ASSIGN(Task full, store.tasks().get(failed.id));
  // Its parameters as they ran: the overrides are resolved already.
  RH_TRY_ASSIGN(Task copy, store.tasks().create(as_new_task(full)));
  std::map<std::string, std::string> rt;
  for (const char* k : {k_dag_queue, k_dag_after, k_dag_priority, "dag_time_limit", "dag_cache_key",
                        "dag_base_task"})
    if (!runtime_value(full, k).empty())
      rt[k] = runtime_value(full, k);
  rt["dag_retries"] = std::to_string(number_or(runtime_value(full, "dag_retries"), 0) - 1);
  rt["retry_of"] = full.id;
  TaskPatch p;
  p.runtime = rt;
  RH_TRY(store.tasks().update(copy.id, p));
  for (const auto& s : steps) {
    auto after = split(runtime_value(s, k_dag_after), ',');
    bool changed = false;
    for (auto& a : after)
      if (a == full.id) {
        a = copy.id;
        changed = true;
      }
    if (!changed)
      continue;
    TaskPatch q;
    q.runtime = std::map<std::string, std::string>{{k_dag_after, join(after, ",")}};
    RH_TRY(store.tasks().update(s.id, q));
  }
  TaskPatch mark;
  mark.runtime = std::map<std::string, std::string>{{"dag_retried", copy.id}};
  RH_TRY(store.tasks().update(full.id, mark));
  return {};
}

}  // namespace

Status step_dag_run(MetadataStore& store, const Task& run, const Notify& notify, double now) {
  RH_TRY_ASSIGN(auto steps, children_of(store, run.id));
  std::erase_if(steps, retried);  // replaced by their retries
  auto again = [&]() -> Status {
    RH_TRY_ASSIGN(Task fresh, store.tasks().get(run.id));
    return step_dag_run(store, fresh, notify, now);
  };
  for (const auto& s : steps) {
    // A failed step with retries left runs again.
    if (s.status == TaskStatus::failed && number_or(runtime_value(s, "dag_retries"), 0) > 0) {
      RH_TRY(retry_step(store, s, steps));
      notify(s.id, false);
      return again();
    }
    // A step running past its time limit is aborted (its agent stops it).
    int64_t limit = number_or(runtime_value(s, "dag_time_limit"), 0);
    if (s.status == TaskStatus::running && limit > 0 && s.started > 0 && now - s.started > limit) {
      RH_TRY(store.tasks().set_status(s.id, TaskStatus::aborted,
                                      "time limit of " + std::to_string(limit) + " s passed"));
      notify(s.id, false);
      return again();
    }
  }
  // abort_on_failure: the first failure ends every step not ended yet.
  if (runtime_value(run, "dag_abort_on_failure") == "1") {
    const Task* bad = nullptr;
    for (const auto& s : steps)
      if (!bad && (s.status == TaskStatus::failed || s.status == TaskStatus::aborted))
        bad = &s;
    if (bad) {
      bool any = false;
      for (const auto& s : steps)
        if (!is_final(s.status)) {
          RH_TRY(store.tasks().set_status(s.id, TaskStatus::aborted,
                                          "the pipeline was aborted: step '" + bad->name + "' " +
                                              std::string(to_string(bad->status))));
          notify(s.id, false);
          any = true;
        }
      if (any)
        return again();
    }
  }
  std::map<std::string, const Task*> by_id;
  for (const auto& s : steps)
    by_id[s.id] = &s;
  int64_t jobs = number_or(runtime_value(run, k_dag_jobs), 0);
  int64_t busy = 0;
  for (const auto& s : steps)
    busy += s.status == TaskStatus::queued || s.status == TaskStatus::running;
  for (const auto& s : steps) {
    if (s.status != TaskStatus::created || runtime_value(s, k_dag_queue).empty())
      continue;
    bool ready = true;
    std::string blocked_by;
    for (const auto& a : split(runtime_value(s, k_dag_after), ',')) {
      if (a.empty())
        continue;
      auto it = by_id.find(a);
      if (it == by_id.end()) {
        blocked_by = a + " (not a step of this run)";
        break;
      }
      TaskStatus st = it->second->status;
      if (st == TaskStatus::failed || st == TaskStatus::aborted) {
        blocked_by = "'" + it->second->name + "' " + std::string(to_string(st));
        break;
      }
      ready = ready && st == TaskStatus::completed;
    }
    if (!blocked_by.empty()) {
      RH_TRY(store.tasks().set_status(s.id, TaskStatus::aborted,
                                      "not run: the step before it, " + blocked_by));
      notify(s.id, false);
      return again();  // its own dependants end too
    }
    if (!ready || (jobs > 0 && busy >= jobs))
      continue;
    // A task pipeline's step: its overrides, resolved now (task_pipeline.h).
    if (!runtime_value(s, "dag_overrides").empty()) {
      RH_TRY_ASSIGN(Task full_run, store.tasks().get(run.id));
      RH_TRY_ASSIGN(Task full_step, store.tasks().get(s.id));
      auto hp = resolved_overrides(store, full_run, full_step);
      if (!hp) {
        RH_TRY(
            store.tasks().set_status(s.id, TaskStatus::aborted, "not run: " + hp.error().message));
        notify(s.id, false);
        return again();
      }
      if (!hp->empty())
        RH_TRY(store.tasks().set_hyperparameters(s.id, *hp, false));
      // The step cache: the same inputs as a completed earlier step.
      RH_TRY_ASSIGN(Task ready_step, store.tasks().get(s.id));
      std::string key = step_cache_key(ready_step);
      TaskPatch keyed;
      keyed.runtime = std::map<std::string, std::string>{{"dag_cache_key", key}};
      RH_TRY(store.tasks().update(s.id, keyed));
      if (runtime_value(s, "dag_cache") == "1") {
        RH_TRY_ASSIGN(auto earlier, cached_step(store, ready_step, key));
        if (earlier) {
          RH_TRY(reuse_step(store, ready_step, *earlier));
          notify(s.id, false);
          return again();
        }
      }
    }
    auto queued = store.queues().enqueue(s.id, runtime_value(s, k_dag_queue),
                                         number_or(runtime_value(s, k_dag_priority), 0));
    if (!queued && (queued.error().code == ErrorCode::not_found ||
                    queued.error().code == ErrorCode::invalid_argument)) {
      // No such queue (or the step cannot go into one): it will never run.
      RH_TRY(store.tasks().set_status(s.id, TaskStatus::aborted,
                                      "not run: " + queued.error().message));
      notify(s.id, false);
      return again();
    }
    if (!queued)
      return std::unexpected(queued.error());
    ++busy;
    notify(s.id, true);
  }
  std::vector<std::string> not_completed;
  for (const auto& s : steps) {
    if (!is_final(s.status))
      return {};
    if (s.status != TaskStatus::completed)
      not_completed.push_back(s.name);
  }
  RH_TRY(store.tasks().set_status(
      run.id, not_completed.empty() ? TaskStatus::completed : TaskStatus::failed,
      not_completed.empty() ? "" : "not completed: " + join(not_completed, ", ")));
  notify(run.id, false);
  return {};
}

}  // namespace rh::flow

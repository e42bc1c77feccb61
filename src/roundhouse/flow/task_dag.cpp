#include "roundhouse/flow/task_dag.h"

#include <map>

#include "roundhouse/flow/task_pipeline.h"
#include "roundhouse/util/strings.h"

namespace rh::flow {

namespace {

std::string runtime_of(const Task& t, const char* key) {
  auto it = t.runtime.find(key);
  return it == t.runtime.end() ? "" : it->second;
}

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
    if (runtime_of(t, k_dag_run) == "1")
      out.push_back(std::move(t));
  return out;
}

Result<std::vector<Task>> children_of(MetadataStore& store, const std::string& parent) {
  TaskQuery q{};
  q.parent = parent;
  q.descending = false;
  return list_every(store, q);
}

Status step_dag_run(MetadataStore& store, const Task& run, const Notify& notify) {
  RH_TRY_ASSIGN(auto steps, children_of(store, run.id));
  std::map<std::string, const Task*> by_id;
  for (const auto& s : steps)
    by_id[s.id] = &s;
  int64_t jobs = number_or(runtime_of(run, k_dag_jobs), 0);
  int64_t busy = 0;
  for (const auto& s : steps)
    busy += s.status == TaskStatus::queued || s.status == TaskStatus::running;
  for (const auto& s : steps) {
    if (s.status != TaskStatus::created || runtime_of(s, k_dag_queue).empty())
      continue;
    bool ready = true;
    std::string blocked_by;
    for (const auto& a : split(runtime_of(s, k_dag_after), ',')) {
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
      RH_TRY_ASSIGN(Task again, store.tasks().get(run.id));
      return step_dag_run(store, again, notify);  // its own dependants end too
    }
    if (!ready || (jobs > 0 && busy >= jobs))
      continue;
    // A task pipeline's step: its overrides, resolved now (task_pipeline.h).
    if (!runtime_of(s, "dag_overrides").empty()) {
      RH_TRY_ASSIGN(Task full_run, store.tasks().get(run.id));
      RH_TRY_ASSIGN(Task full_step, store.tasks().get(s.id));
      auto hp = resolved_overrides(store, full_run, full_step);
      if (!hp) {
        RH_TRY(
            store.tasks().set_status(s.id, TaskStatus::aborted, "not run: " + hp.error().message));
        notify(s.id, false);
        RH_TRY_ASSIGN(Task again, store.tasks().get(run.id));
        return step_dag_run(store, again, notify);
      }
      if (!hp->empty())
        RH_TRY(store.tasks().set_hyperparameters(s.id, *hp, false));
      // The step cache: the same inputs as a completed earlier step.
      RH_TRY_ASSIGN(Task ready_step, store.tasks().get(s.id));
      std::string key = step_cache_key(ready_step);
      TaskPatch keyed;
      keyed.runtime = std::map<std::string, std::string>{{"dag_cache_key", key}};
      RH_TRY(store.tasks().update(s.id, keyed));
      if (runtime_of(s, "dag_cache") == "1") {
        RH_TRY_ASSIGN(auto earlier, cached_step(store, ready_step, key));
        if (earlier) {
          RH_TRY(reuse_step(store, ready_step, *earlier));
          notify(s.id, false);
          RH_TRY_ASSIGN(Task again, store.tasks().get(run.id));
          return step_dag_run(store, again, notify);
        }
      }
    }
    auto queued = store.queues().enqueue(s.id, runtime_of(s, k_dag_queue),
                                         number_or(runtime_of(s, k_dag_priority), 0));
    if (!queued && (queued.error().code == ErrorCode::not_found ||
                    queued.error().code == ErrorCode::invalid_argument)) {
      // No such queue (or the step cannot go into one): it will never run.
      RH_TRY(store.tasks().set_status(s.id, TaskStatus::aborted,
                                      "not run: " + queued.error().message));
      notify(s.id, false);
      RH_TRY_ASSIGN(Task again, store.tasks().get(run.id));
      return step_dag_run(store, again, notify);
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

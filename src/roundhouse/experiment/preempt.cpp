#include "roundhouse/experiment/preempt.h"

#include <algorithm>
#include <map>
#include <set>

#include "roundhouse/experiment/records.h"

namespace rh::experiment {

Result<int> preempt_for_priority(MetadataStore& store, const Notify& notify) {
  RH_TRY_ASSIGN(auto queues, store.queues().list());
  bool any_waiting =
      std::any_of(queues.begin(), queues.end(), [](const Queue& q) { return q.waiting > 0; });
  if (!any_waiting)
    return 0;
  // Experiments' priorities, read once a pass.
  std::map<std::string, int64_t> exp_priority;
  auto priority_of_experiment = [&](const std::string& id) -> int64_t {
    auto it = exp_priority.find(id);
    if (it != exp_priority.end())
      return it->second;
    auto e = store.tasks().get(id);
    int64_t p = e ? runtime_int(*e, "priority") : 0;
    exp_priority[id] = p;
    return p;
  };
  TaskQuery running_q;
  running_q.statuses = {TaskStatus::running};
  running_q.limit = 1000;
  RH_TRY_ASSIGN(TaskPage running, store.tasks().list(running_q));
  RH_TRY_ASSIGN(auto workers, store.queues().workers());
  int asked = 0;
  for (const auto& q : queues) {
    if (q.waiting == 0)
      continue;
    int64_t idle = std::count_if(workers.begin(), workers.end(), [&](const Worker& w) {
      return w.task_id.empty() &&
             std::find(w.queues.begin(), w.queues.end(), q.name) != w.queues.end();
    });
    // Trials already asked to stop free their agents soon: count them as idle.
    idle += std::count_if(running.tasks.begin(), running.tasks.end(), [&](const Task& t) {
      return is_context_trial(t) && runtime_text(t, "queue") == q.name &&
             !runtime_text(t, "stop").empty();
    });
    RH_TRY_ASSIGN(auto entries, store.queues().entries(q.name, 1000));
    if (int64_t(entries.size()) <= idle)
      continue;
    // Running trials on this queue that may give way, lowest priority first.
    struct Victim {
      std::string task, experiment;
      int64_t priority;
    };
    std::vector<Victim> victims;
    for (const auto& t : running.tasks) {
      if (is_context_trial(t) && runtime_text(t, "queue") == q.name &&
          runtime_text(t, "stop").empty())
        victims.push_back({t.id, runtime_text(t, "experiment"),
                           priority_of_experiment(runtime_text(t, "experiment"))});
    }
    std::sort(victims.begin(), victims.end(),
              [](const Victim& a, const Victim& b) { return a.priority < b.priority; });
    std::set<std::string> taken;
    // The first `idle` entries get the idle agents; the rest may preempt.
    for (size_t i = size_t(idle); i < entries.size(); ++i) {
      auto w = store.tasks().get(entries[i].task_id);
      if (!w)
        continue;
      bool trial = is_trial(*w);
      std::string from = trial ? runtime_text(*w, "experiment") : "";
      int64_t p = trial ? priority_of_experiment(from) : entries[i].priority;
      auto v = std::find_if(victims.begin(), victims.end(), [&](const Victim& x) {
        return !taken.count(x.task) && x.priority < p && x.experiment != from;
      });
      if (v == victims.end())
        break;  // entries are in priority order: no later one preempts either
      taken.insert(v->task);
      if (set_runtime(store, v->task, {{"stop", "pause"}, {"preempted_by", entries[i].task_id}})) {
        notify(v->task, false);
        ++asked;
      }
    }
  }
  return asked;
}

}  // namespace rh::experiment

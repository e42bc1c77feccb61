#include "roundhouse/experiment/checkpoint_gc.h"

#include <algorithm>
#include <map>

#include "roundhouse/experiment/config.h"
#include "roundhouse/experiment/records.h"

namespace rh::experiment {

namespace {

using Key = std::pair<std::string, std::string>;

Key key_of(const CheckpointRef& c) {
  return {c.task_id, c.id};
}

// The first n of refs by `better` (a strict order), added to keep.
template <class Better>
void keep_first(std::vector<const CheckpointRef*> refs, int64_t n, Better better,
                std::set<Key>& keep) {
  if (n <= 0)
    return;
  std::stable_sort(refs.begin(), refs.end(), better);
  for (size_t i = 0; i < refs.size() && int64_t(i) < n; ++i)
    keep.insert(key_of(*refs[i]));
}

}  // namespace

std::set<Key> checkpoints_to_keep(const std::vector<CheckpointRef>& all, const GcPolicy& p) {
  auto later = [](const CheckpointRef* a, const CheckpointRef* b) {
    return a->steps != b->steps ? a->steps > b->steps : a->created > b->created;
  };
  auto better = [&](const CheckpointRef* a, const CheckpointRef* b) {
    if (*a->metric != *b->metric)
      return p.smaller_is_better ? *a->metric < *b->metric : *a->metric > *b->metric;
    return later(a, b);  // a tie: the later one
  };
  std::set<Key> keep;
  std::map<std::string, std::vector<const CheckpointRef*>> by_trial, rated_by_trial;
  std::vector<const CheckpointRef*> rated;
  for (const auto& c : all) {
    by_trial[c.task_id].push_back(&c);
    if (c.metric) {
      rated.push_back(&c);
      rated_by_trial[c.task_id].push_back(&c);
    }
  }
  for (auto& [task, refs] : by_trial)
    keep_first(refs, p.trial_latest, later, keep);
  for (auto& [task, refs] : rated_by_trial)
    keep_first(refs, p.trial_best, better, keep);
  keep_first(rated, p.experiment_best, better, keep);
  return keep;
}

namespace {

// The trial's checkpoints, each with the searcher metric at its steps.
Result<std::vector<CheckpointRef>> checkpoints_of(MetadataStore& store, const Task& trial,
                                                  const std::string& title,
                                                  const std::string& series) {
  RH_TRY_ASSIGN(auto arts, store.artifacts().list(trial.id));
  std::vector<CheckpointRef> out;
  for (const auto& a : arts) {
    if (a.type != "checkpoint" || !a.name.starts_with("checkpoint/"))
      continue;
    CheckpointRef c;
    c.task_id = trial.id;
    c.id = a.name.substr(11);
    c.created = a.created;
    if (auto it = a.metadata.find("steps_completed"); it != a.metadata.end()) {
      char* end = nullptr;
      long long v = std::strtoll(it->second.c_str(), &end, 10);
      if (end && *end == '\0' && !it->second.empty())
        c.steps = v;
    }
    out.push_back(std::move(c));
  }
  if (out.empty() || series.empty())
    return out;
  auto points = store.scalars().read(trial.id, title, series, ScalarReadOptions{});
  if (!points)
    return out;  // no validation yet: none is "best"
  std::map<int64_t, double> at;
  for (size_t i = 0; i < points->steps.size(); ++i)
    at[points->steps[i]] = points->values[i];
  for (auto& c : out) {
    if (auto it = at.find(c.steps); it != at.end())
      c.metric = it->second;
  }
  return out;
}

}  // namespace

Result<int64_t> collect_checkpoints(MetadataStore& store, const Task& exp,
                                    const std::vector<Task>& trials) {
  if (runtime_text(exp, "checkpoints_collected") == "1")
    return 0;
  bool all_ended = is_final(exp.status);
  std::vector<const Task*> fresh;  // ended, not yet collected
  for (const auto& t : trials) {
    if (!is_final(t.status))
      all_ended = false;
    else if (runtime_text(t, "checkpoints_collected") != "1")
      fresh.push_back(&t);
  }
  if (fresh.empty() && !all_ended)
    return 0;
  RH_TRY_ASSIGN(Config c, experiment_config(exp));
  GcPolicy p{c.save_experiment_best, c.save_trial_best, c.save_trial_latest,
             c.searcher.smaller_is_better};
  std::string title = k_searcher_title, series = c.searcher.metric;
  if (!runtime_text(exp, "base_task").empty()) {
    title = runtime_text(exp, "objective_title");
    series = runtime_text(exp, "objective_series");
  }
  // Only the experiment's best (or its end) needs every trial's
  // checkpoints; otherwise each ended trial's own decide what it keeps.
  std::set<std::string> fresh_ids;
  for (const Task* t : fresh)
    fresh_ids.insert(t->id);
  bool every_trial = all_ended || p.experiment_best > 0;
  std::vector<CheckpointRef> all;
  for (const auto& t : trials) {
    if (!every_trial && !fresh_ids.count(t.id))
      continue;
    RH_TRY_ASSIGN(auto refs, checkpoints_of(store, t, title, series));
    all.insert(all.end(), refs.begin(), refs.end());
  }
  std::set<Key> keep = checkpoints_to_keep(all, p);
  std::set<std::string> collect = fresh_ids;
  if (all_ended) {
    for (const auto& t : trials)
      collect.insert(t.id);
  }
  int64_t removed = 0;
  std::map<std::string, const CheckpointRef*> latest_kept;  // trial -> its latest kept
  for (const auto& ref : all) {
    if (!collect.count(ref.task_id))
      continue;
    if (keep.count(key_of(ref))) {
      const CheckpointRef*& l = latest_kept[ref.task_id];
      if (!l || ref.steps > l->steps || (ref.steps == l->steps && ref.created > l->created))
        l = &ref;
      continue;
    }
    auto st = store.artifacts().remove(ref.task_id, "checkpoint/" + ref.id);
    if (!st && st.error().code != ErrorCode::not_found)
      return std::unexpected(st.error());
    ++removed;
  }
  // latest_checkpoint names one that is still there (or none).
  for (const auto& t : trials) {
    if (!collect.count(t.id))
      continue;
    std::string now = latest_kept.count(t.id) ? latest_kept[t.id]->id : "";
    std::map<std::string, std::string> rt{{"checkpoints_collected", "1"}};
    if (now != runtime_text(t, "latest_checkpoint"))
      rt["latest_checkpoint"] = now;
    RH_TRY(set_runtime(store, t.id, rt));
  }
  if (all_ended)
    RH_TRY(set_runtime(store, exp.id, {{"checkpoints_collected", "1"}}));
  return removed;
}

}  // namespace rh::experiment

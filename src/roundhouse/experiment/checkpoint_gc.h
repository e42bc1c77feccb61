// Checkpoint garbage collection by an experiment's `checkpoint_storage`
// policy, as Determined's: of each ended trial keep its `save_trial_latest`
// latest checkpoints and its `save_trial_best` best ones, and over the whole
// experiment its `save_experiment_best` best; the union is kept and every
// other checkpoint of an ended trial is removed (the artifact goes; its
// blobs go once nothing else refers to them: BlobOrphans). "Best" ranks a
// checkpoint by the searcher metric the trial reported at the checkpoint's
// steps_completed; one without such a validation is never "best". Trials
// still going (running, queued, paused at a rung) keep everything: they may
// resume from any of it.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "roundhouse/store/metadata_store.h"

namespace rh::experiment {

struct CheckpointRef {
  std::string task_id;
  std::string id;
  int64_t steps = -1;  // steps_completed, -1 when not given
  double created = 0;
  std::optional<double> metric;  // the searcher metric at `steps`
};

struct GcPolicy {
  int64_t experiment_best = 0, trial_best = 1, trial_latest = 1;
  bool smaller_is_better = true;
};

// (task_id, id) of the checkpoints the policy keeps among `all`. Pure.
std::set<std::pair<std::string, std::string>> checkpoints_to_keep(
    const std::vector<CheckpointRef>& all, const GcPolicy& p);

// Applies the policy to the experiment's trials that ended since the last
// call (each once; runtime "checkpoints_collected"), and when the experiment
// and all its trials have ended, once more to every trial (the experiment's
// best are final then). A collected trial's runtime latest_checkpoint then
// names its latest kept checkpoint, or nothing. Returns the number removed.
Result<int64_t> collect_checkpoints(MetadataStore& store, const Task& experiment,
                                    const std::vector<Task>& trials);

}  // namespace rh::experiment

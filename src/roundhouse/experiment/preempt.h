// Priority preemption between experiments sharing a queue: when a task of
// higher priority (a trial: its experiment's `resources.priority`; any
// other task: its queue priority) waits in a queue and no agent serving
// that queue is idle, running trials of lower-priority experiments on that
// queue are asked to pause (their `stop` becomes "pause": they checkpoint
// and exit, and their agent takes the waiting task). Their experiment
// queues them again (experiment/driver.h) and they resume from their
// checkpoints once the higher-priority work has left room. A trial is never
// preempted for a trial of its own experiment.
#pragma once

#include "roundhouse/experiment/driver.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::experiment {

// One pass over every queue; returns how many trials were asked to pause.
Result<int> preempt_for_priority(MetadataStore& store, const Notify& notify);

}  // namespace rh::experiment

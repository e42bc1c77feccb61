// The experiment driver: what the server runs to move an experiment on.
// It feeds the searcher (search/searcher.h) what the trials recorded since
// the last step (searcher-metric points, trial ends) and applies what the
// searcher answers: create trial tasks and queue them, change a trial's
// target, ask a trial to stop or pause, requeue a paused one. Then it makes
// the trials match the experiment's state (paused: running trials asked to
// checkpoint and exit, queued ones taken out; active: paused and restarted
// trials queued again) and ends the experiment when every trial has.
//
// Restart safety without a transaction across tasks: the driver's state
// (the searcher's snapshot, and per trial what it has been fed) is saved in
// the experiment's runtime after the actions are applied, and applying is
// idempotent: a trial is created only when no child task has its number,
// targets and stop requests are set, not added. A server that dies between
// the actions and the save replays the same events on the same saved state,
// the searcher (deterministic, its generator saved) answers the same
// actions, and the existing trials are found: nothing is created twice and
// nothing is lost.
#pragma once

#include <functional>
#include <string>

#include "roundhouse/store/metadata_store.h"

namespace rh::experiment {

// Called after each write to a task, with whether it was queued (so the
// server can wake the pages and the agents waiting on it).
using Notify = std::function<void(const std::string& task_id, bool enqueued)>;

// Moves the experiment on as far as what is recorded allows, and collects
// the checkpoints of the trials that ended (checkpoint_gc.h). Returns
// whether anything was written. An experiment in a final state is only
// collected, once (runtime "checkpoints_collected"); then it is left alone.
Result<bool> step_experiment(MetadataStore& store, const std::string& experiment_id,
                             const Notify& notify);

// User actions on a whole experiment (each refused with conflict from a
// state it does not apply to):
// pause: running -> paused; running trials are asked to checkpoint and
//        exit (each ends paused), queued ones are taken out of the queue.
// activate: paused -> running; the next step queues the trials again.
// cancel: -> aborted; running trials checkpoint and end, the rest end now.
// kill: -> aborted; every trial still going is aborted at once.
Status pause_experiment(MetadataStore& store, const std::string& id, const Notify& notify);
Status activate_experiment(MetadataStore& store, const std::string& id, const Notify& notify);
Status cancel_experiment(MetadataStore& store, const std::string& id, const Notify& notify);
Status kill_experiment(MetadataStore& store, const std::string& id, const Notify& notify);

}  // namespace rh::experiment

// Task DAGs run by the server: a run task whose children (parent = the run)
// are its steps, each waiting in `created` until the steps it comes after
// have completed, then enqueued. `rh repro --queue` submits a pipeline as
// one; no process but the server drives it, so the submitter may go away.
//
// Kept in the tasks' tags and runtime (no schema of its own):
//   the run:  the tag "pipeline"; dag_run = "1" once every step exists (a run still being
//             submitted is left alone); dag_jobs = N, at most N steps queued
//             or running at once (absent or 0: no limit)
//   a step:   dag_queue = the queue it goes to; dag_after = the IDs of the
//             steps it waits for, comma-separated; dag_priority (default 0);
//             dag_overrides (task pipelines): parameters set just before it
//             is enqueued, their references resolved (task_pipeline.h); one
//             that cannot be resolved aborts the step, saying why;
//             dag_retries = N: a failed step runs again (a fresh copy in its
//             place, runtime retry_of; the failed one gets dag_retried) up to
//             N times; dag_time_limit = S: a step running longer than S
//             seconds is aborted
//   and on the run: dag_abort_on_failure = "1": the first failed or aborted
//             step aborts every step not ended yet
// One step of the executor (step_dag_run) enqueues each waiting step whose
// steps before it all completed, aborts one whose step before it failed or
// was aborted (saying which), and ends the run when every step has ended:
// completed when all completed, else failed naming the steps that did not.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "roundhouse/store/metadata_store.h"

namespace rh::flow {

// Told of each task written (enqueued: it went into a queue).
using Notify = std::function<void(const std::string& task_id, bool enqueued)>;

inline constexpr const char* k_dag_tag = "pipeline";
inline constexpr const char* k_dag_run = "dag_run";
inline constexpr const char* k_dag_jobs = "dag_jobs";
inline constexpr const char* k_dag_queue = "dag_queue";
inline constexpr const char* k_dag_after = "dag_after";
inline constexpr const char* k_dag_priority = "dag_priority";

// The runs to step: running tasks tagged k_dag_tag with dag_run = "1".
Result<std::vector<Task>> running_dag_runs(MetadataStore& store);

// Every child of a task, oldest first.
Result<std::vector<Task>> children_of(MetadataStore& store, const std::string& parent);

// `now`: seconds since the epoch, as the tasks' times count (time limits).
Status step_dag_run(MetadataStore& store, const Task& run, const Notify& notify, double now);

}  // namespace rh::flow

// Stages run on agents: `rh repro --queue Q` on the user's machine and
// `rh stage exec NAME` on an agent, and what the two agree on.
//
// The submitter decides what must run (as --dry does), pushes the data the
// lock and tracked files name to the remote (what it lacks), and submits a
// task DAG (flow/task_dag.h) that the server drives: a run task (type
// controller, named after the pipeline file, configuration "dag") and a
// child task per stage (type data_processing, `rh stage exec NAME` on the
// commit and uncommitted changes, with the repository's requirements.txt
// as the requirements the agent installs, configurations "lock" — the lock as the
// submitter had it — and "remote" — the URL or folder the data moves
// through), each enqueued once the stages it needs completed. Then it waits,
// and as each stage completes it writes the stage's lock entry and checks
// its outs out of the remote; with --no-wait it returns, and
// `rh repro --collect` later does the same for what completed by then.
//
// On the agent `rh stage exec NAME` writes the lock (with the entries of
// the stages before it, from their tasks' "lock_entry"), fetches only the
// objects of the stage's deps its cache lacks (RH_PIPELINE_CACHE: kept by
// the agent between tasks), runs the stage, pushes its outs, and records the
// stage's new entry ("lock_entry", a lock of that one stage) and what moved
// (runtime fetched_objects, fetched_bytes, pushed_objects, pushed_bytes).
#pragma once

#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace CLI {
class App;
}

namespace rh::cli {

class Context;

struct QueueFlags {
  std::string queue;
  std::vector<std::string> targets;
  bool force = false, single = false, downstream = false;
  int jobs = 0;        // at most this many stages queued or running at once; 0: no limit
  bool wait = true;    // false: --no-wait
  std::string remote;  // -r NAME; default: the default remote, else the server
  std::string project;
};

// `rh repro --queue Q ...`.
Status repro_on_agents(Context& ctx, const QueueFlags& f);
// `rh repro --collect [RUN]`: RUN defaults to the last run submitted here.
Status collect_run(Context& ctx, const std::string& run_id);
// Registers `rh stage exec NAME` under `rh stage`.
void add_stage_exec_command(CLI::App& stage, Context& ctx);

}  // namespace rh::cli

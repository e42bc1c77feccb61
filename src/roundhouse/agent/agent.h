// rh agent: serves queues. Registers as a worker and heartbeats; waits for a
// task by long-poll (POST /api/v1/queues/take: the server parks the request
// until something is enqueued); for each task builds the workspace and the
// venv (agent/workspace.h), runs the entry point with the task's values
// injected (RH_TASK_ID: the SDK attaches and reads its parameters), streams
// console and metrics back, and records how it ended. An abort of the task
// (from anywhere) kills the process: SIGTERM to its process group at once,
// SIGKILL after the grace period. A task whose command is `rh ...` (a
// pipeline stage) runs this binary, with RH_PIPELINE_CACHE naming a cache of
// pipeline data kept in the workdir between tasks.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/env/env.h"
#include "roundhouse/util/error.h"

namespace rh::agent {

struct AgentOptions {
  std::string server;  // http://host:port
  std::string token;
  std::vector<std::string> queues;
  std::string name;     // default host:pid
  std::string gpus;     // "0,1", "none", or empty (CUDA_VISIBLE_DEVICES untouched)
  std::string workdir;  // repos/, venvs/, tasks/
  std::string python = "python3";
  std::string sdk_path;  // put on PYTHONPATH so task code can `import roundhouse`
  bool once = false;     // one task, then exit
  bool tee = true;       // show the task's output
  bool warm = true;      // trials of plain Python entry points fork from a warm interpreter
  double heartbeat_s = 2;
  double kill_grace_s = 10;
  int poll_timeout_s = 5;  // one long-poll's wait (a stop is noticed within it)
};

// Runs until SIGINT/SIGTERM (or after one task with `once`). A task running
// when the agent is stopped is aborted.
Status run_agent(Env& env, const AgentOptions& opt);

}  // namespace rh::agent

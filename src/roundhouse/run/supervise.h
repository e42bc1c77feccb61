// Runs a program and records what it produces into a task: both console
// streams (optionally still shown), metrics JSON lines on RH_METRICS_FD /
// RH_METRICS_FILE, TensorBoard event files; then its end: exit code or
// signal, wall time, peak memory. Used by `rh run` and by `rh agent`.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "roundhouse/model/task.h"
#include "roundhouse/run/recorder.h"

namespace rh {

struct SuperviseOptions {
  std::vector<std::string> argv;   // argv[0] is looked up on PATH (of `env`)
  std::vector<std::string> env;    // the child's whole environment, "K=V"
  std::string cwd;                 // empty: ours
  bool tee = true;                 // also write the child's output to our stdout/stderr
  bool own_process_group = false;  // signals then reach the child's whole process tree
  std::string tensorboard_dir;
  // Polled at least every 100 ms and whenever wake_fd is readable: 0 to go
  // on, a signal number to send the child (the run counts as aborted), or -1
  // for "aborted, but the child already has the signal" (Ctrl-C at a terminal).
  std::function<int()> check;
  int wake_fd = -1;
  // After an abort signal, SIGKILL follows when the child has not exited by then.
  double kill_grace_s = 10;
  std::function<void(pid_t)> on_started;  // right after fork, in the parent
};

struct SuperviseResult {
  bool exec_failed = false;
  int exec_errno = 0;
  int exit_code = 0;  // 128 + signal when killed
  int signal = 0;
  bool aborted = false;
  double wall_time_s = 0;
  int64_t peak_rss_bytes = 0;
  double started_at = 0;  // wall clock when the child was forked

  // The task's final status, its message, and the runtime facts to record.
  TaskStatus final_status(std::string& message, std::map<std::string, std::string>& runtime,
                          const std::string& program) const;
};

// Sets RH_METRICS_FD / RH_METRICS_FILE in opt.env itself. Errors only when
// the process cannot be set up at all (pipes, fork); a program that cannot
// be executed is a result with exec_failed.
Result<SuperviseResult> supervise(Recorder& rec, Env& env, SuperviseOptions opt);

// `environ` as "K=V" strings, leaving out the variables named in `drop`.
std::vector<std::string> current_environment(const std::vector<std::string>& drop);

}  // namespace rh

// rh run [--project P] [--name N] [--tag T]... [--tensorboard-dir DIR] -- CMD ARGS...
//
// Records any program without an SDK: code (git or script), environment,
// command line, console (both streams, still shown), exit status, wall time,
// peak memory, and metrics from JSON lines (RH_METRICS_FD / RH_METRICS_FILE)
// and TensorBoard event files. Exits with the program's exit status.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <map>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/run/capture.h"
#include "roundhouse/run/recorder.h"
#include "roundhouse/run/supervise.h"
#include "roundhouse/util/fs.h"

extern char** environ;

namespace rh::cli {

namespace {

struct RunFlags {
  std::string project = "default";
  std::string name;
  std::vector<std::string> tags;
  std::string tensorboard_dir;
  std::vector<std::string> command;
};

// Signal handling: the handler only records the signal and wakes the loop.
int g_wake_fd = -1;
std::atomic<int> g_signal{0};
std::atomic<bool> g_signal_from_user{false};

void on_signal(int sig, siginfo_t* info, void*) {
  g_signal = sig;
  // Signals typed at the terminal reach the child's process group already;
  // only those sent to rh alone (kill) are forwarded.
  g_signal_from_user = info && (info->si_code == SI_USER || info->si_code == SI_QUEUE);
  char c = 1;
  (void)!::write(g_wake_fd, &c, 1);
}

Result<int> run(Context& ctx, const RunFlags& f) {
  if (f.command.empty())
    return make_error(ErrorCode::invalid_argument, "give the command after --");
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  char cwd_buf[4096];
  std::string cwd = ::getcwd(cwd_buf, sizeof cwd_buf) ? cwd_buf : ".";

  NewTask nt;
  nt.project = f.project;
  std::string script = find_script(f.command, cwd);
  nt.name = !f.name.empty() ? f.name : basename_of(script.empty() ? f.command[0] : script);
  nt.tags = f.tags;
  // The environment (pip freeze takes most of a second) is captured while the
  // program already runs, and recorded as soon as it is known.
  auto env_future =
      std::async(std::launch::async, [cmd = f.command] { return capture_environment(cmd); });
  nt.script = capture_script(f.command, cwd);
  RH_TRY_ASSIGN(Task task, store->tasks().create(nt));
  RH_TRY(store->tasks().set_status(task.id, TaskStatus::running, ""));
  std::fprintf(stderr, "rh: recording task %s (%s/%s)\n", task.id.c_str(), nt.project.c_str(),
               nt.name.c_str());

  Recorder rec(*store, ctx.env, task.id);
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK))
    return make_error(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));
  g_wake_fd = wake[1];
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int, old_term;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  SuperviseOptions opt;
  opt.argv = f.command;
  opt.env = current_environment({"RH_TASK_ID"});
  opt.env.push_back("RH_TASK_ID=" + task.id);
  if (!std::getenv("PYTHONUNBUFFERED"))
    opt.env.push_back("PYTHONUNBUFFERED=1");
  opt.tensorboard_dir = f.tensorboard_dir;
  opt.wake_fd = wake[0];
  opt.check = [] {
    int sig = g_signal.exchange(0);
    if (!sig)
      return 0;
    // Signals typed at the terminal reach the child's process group already;
    // only those sent to rh alone (kill) are forwarded.
    return g_signal_from_user ? sig : -1;
  };
  bool env_recorded = false;
  auto record_env = [&](bool wait) {
    if (env_recorded)
      return;
    if (!wait && env_future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      return;
    TaskPatch p;
    p.environment = env_future.get();
    env_recorded = true;
    if (auto st = store->tasks().update(task.id, p); !st)
      rec.note("rh: cannot record the environment: " + st.error().message);
  };
  auto check = opt.check;
  opt.check = [&, check] {
    record_env(false);
    return check();
  };
  auto res = supervise(rec, ctx.env, std::move(opt));
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::close(wake[0]);
  ::close(wake[1]);
  g_wake_fd = -1;
  if (!res)
    return std::unexpected(res.error());
  if (g_signal.exchange(0))
    res->aborted = true;
  record_env(true);

  std::string message;
  std::map<std::string, std::string> runtime;
  TaskStatus final_status = res->final_status(message, runtime, f.command[0]);
  if (res->exec_failed) {
    rec.note("rh: " + message);
    std::fprintf(stderr, "rh: %s\n", message.c_str());
  }
  Status flushed = rec.finish();
  TaskPatch patch;
  patch.runtime = runtime;
  RH_TRY(store->tasks().update(task.id, patch));
  // The SDK inside may have recorded a failure (with its traceback) already.
  RH_TRY_ASSIGN(Task now, store->tasks().get(task.id));
  if (now.status == TaskStatus::running) {
    RH_TRY(store->tasks().set_status(task.id, final_status, message));
  } else {
    final_status = now.status;
  }
  if (!flushed) {
    std::fprintf(stderr, "rh: some console or metrics could not be recorded: %s\n",
                 flushed.error().message.c_str());
  }
  std::fprintf(stderr, "rh: task %s %s%s%s\n", task.id.c_str(),
               std::string(to_string(final_status)).c_str(), message.empty() ? "" : ": ",
               message.c_str());
  return res->exit_code;
}

}  // namespace

void add_run_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Run a program and record it as a task");
  cmd->add_option("--project", f->project, "Project (default: default)");
  cmd->add_option("--name", f->name, "Task name (default: the script's name)");
  cmd->add_option("--tag", f->tags, "Tag (repeatable)");
  cmd->add_option("--tensorboard-dir", f->tensorboard_dir,
                  "Record scalars from TensorBoard event files written under this folder");
  cmd->add_option("command", f->command, "The program and its arguments, after --")->required();
  cmd->positionals_at_end();
  cmd->callback([&ctx, f] {
    auto code = run(ctx, *f);
    if (!code)
      throw CLI::RuntimeError(report(code.error()));
    if (*code != 0)
      throw CLI::RuntimeError(*code);
  });
}

}  // namespace rh::cli

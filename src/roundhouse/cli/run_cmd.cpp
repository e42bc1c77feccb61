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
#include "roundhouse/run/tensorboard.h"
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

// Follows every *tfevents* file under a folder.
class TbWatcher {
 public:
  explicit TbWatcher(std::string dir) : m_dir(std::move(dir)) {}
  void poll(Recorder& rec) {
    if (m_dir.empty())
      return;
    scan(m_dir, 0);
    for (auto& [path, reader] : m_readers) {
      std::vector<TbScalar> out;
      if (auto st = reader.poll(out); !st)
        rec.note("rh: tensorboard: " + st.error().message);
      for (const auto& s : out) {
        auto [title, series] = split_tb_tag(s.tag);
        rec.scalar(title, series, s.step, s.value, s.wall_time);
      }
    }
  }

 private:
  void scan(const std::string& dir, int depth) {
    if (depth > 8)
      return;
    DIR* d = ::opendir(dir.c_str());
    if (!d)
      return;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..")
        continue;
      std::string path = dir + "/" + name;
      struct stat st;
      if (::stat(path.c_str(), &st) != 0)
        continue;
      if (S_ISDIR(st.st_mode)) {
        scan(path, depth + 1);
      } else if (S_ISREG(st.st_mode) && name.find("tfevents") != std::string::npos &&
                 !m_readers.count(path)) {
        m_readers.emplace(path, TbFileReader(path));
      }
    }
    ::closedir(d);
  }
  std::string m_dir;
  std::map<std::string, TbFileReader> m_readers;
};

// Splits the metrics stream into lines and records each.
class MetricsStream {
 public:
  void feed(std::string_view bytes, Recorder& rec, Env& env) {
    m_buf.append(bytes);
    size_t start = 0;
    while (true) {
      size_t nl = m_buf.find('\n', start);
      if (nl == std::string::npos)
        break;
      line(std::string_view(m_buf).substr(start, nl - start), rec, env);
      start = nl + 1;
    }
    m_buf.erase(0, start);
  }
  void finish(Recorder& rec, Env& env) {
    if (!m_buf.empty())
      line(m_buf, rec, env);
    m_buf.clear();
  }

 private:
  void line(std::string_view l, Recorder& rec, Env& env) {
    ++m_line_no;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' '))
      l.remove_suffix(1);
    if (l.empty())
      return;
    auto m = parse_metric_line(l);
    if (!m) {
      std::string msg =
          "rh: metrics line " + std::to_string(m_line_no) + " ignored: " + m.error().message;
      std::fprintf(stderr, "%s\n", msg.c_str());
      rec.note(msg);
      return;
    }
    auto key = std::make_pair(m->title, m->series);
    int64_t step = m->iteration ? *m->iteration : (m_next.count(key) ? m_next[key] : 0);
    m_next[key] = step + 1;
    rec.scalar(m->title, m->series, step, m->value, m->time > 0 ? m->time : env.now());
  }
  std::string m_buf;
  size_t m_line_no = 0;
  std::map<std::pair<std::string, std::string>, int64_t> m_next;
};

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return;  // our own stdout closed: keep recording regardless
    }
    p += k;
    n -= static_cast<size_t>(k);
  }
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
  int out_pipe[2], err_pipe[2], metrics_pipe[2], wake[2];
  if (::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC) || ::pipe(metrics_pipe) ||
      ::pipe2(wake, O_CLOEXEC | O_NONBLOCK)) {
    return make_error(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));
  }
  ::fcntl(metrics_pipe[0], F_SETFD, FD_CLOEXEC);
  g_wake_fd = wake[1];
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int, old_term;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  std::string metrics_fd = std::to_string(metrics_pipe[1]);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("RH_TASK_ID=") || kv.starts_with("RH_METRICS_FD=") ||
        kv.starts_with("RH_METRICS_FILE=")) {
      continue;
    }
    env_strings.emplace_back(kv);
  }
  env_strings.push_back("RH_TASK_ID=" + task.id);
  env_strings.push_back("RH_METRICS_FD=" + metrics_fd);
  env_strings.push_back("RH_METRICS_FILE=/dev/fd/" + metrics_fd);
  if (!std::getenv("PYTHONUNBUFFERED"))
    env_strings.push_back("PYTHONUNBUFFERED=1");
  std::vector<char*> envp;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : f.command)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  auto t0 = std::chrono::steady_clock::now();
  int exec_status[2];
  (void)::pipe2(exec_status, O_CLOEXEC);
  pid_t pid = ::fork();
  if (pid < 0)
    return make_error(ErrorCode::io, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execvpe(args[0], args.data(), envp.data());
    int e = errno;
    (void)!::write(exec_status[1], &e, sizeof e);
    _exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(metrics_pipe[1]);
  ::close(exec_status[1]);
  int exec_errno = 0;
  bool exec_failed = ::read(exec_status[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  ::close(exec_status[0]);

  TbWatcher tb(f.tensorboard_dir);
  MetricsStream metrics;
  struct pollfd fds[4] = {{out_pipe[0], POLLIN, 0},
                          {err_pipe[0], POLLIN, 0},
                          {metrics_pipe[0], POLLIN, 0},
                          {wake[0], POLLIN, 0}};
  int open_streams = 3;
  bool abort_requested = false;
  char buf[65536];
  auto last_tb = std::chrono::steady_clock::now();
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
  while (open_streams > 0) {
    int rc = ::poll(fds, 4, 500);
    if (rc < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 4; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t k = ::read(fds[i].fd, buf, sizeof buf);
      if (k < 0 && errno == EINTR)
        continue;
      if (i == 3) {
        int sig = g_signal.exchange(0);
        if (sig) {
          abort_requested = true;
          if (g_signal_from_user)
            ::kill(pid, sig);
        }
        continue;
      }
      if (k <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_streams;
        continue;
      }
      std::string_view chunk(buf, static_cast<size_t>(k));
      if (i == 0) {
        write_all(1, buf, chunk.size());
        rec.console(ConsoleStream::stdout_stream, chunk);
      } else if (i == 1) {
        write_all(2, buf, chunk.size());
        rec.console(ConsoleStream::stderr_stream, chunk);
      } else {
        metrics.feed(chunk, rec, ctx.env);
      }
    }
    if (std::chrono::steady_clock::now() - last_tb > std::chrono::milliseconds(500)) {
      record_env(false);
      tb.poll(rec);
      last_tb = std::chrono::steady_clock::now();
    }
  }
  int status = 0;
  struct rusage ru {};
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  if (g_signal.exchange(0))
    abort_requested = true;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  tb.poll(rec);
  metrics.finish(rec, ctx.env);
  record_env(true);

  TaskStatus final_status;
  std::string message;
  int exit_code;
  std::map<std::string, std::string> runtime{
      {"wall_time_s", std::to_string(wall)},
      {"peak_rss_bytes", std::to_string(static_cast<int64_t>(ru.ru_maxrss) * 1024)}};
  if (exec_failed) {
    final_status = TaskStatus::failed;
    message = "cannot run " + f.command[0] + ": " + std::strerror(exec_errno);
    rec.note("rh: " + message);
    std::fprintf(stderr, "rh: %s\n", message.c_str());
    exit_code = 127;
  } else if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    exit_code = 128 + sig;
    runtime["signal"] = std::to_string(sig);
    message = std::string("killed by signal ") + std::to_string(sig) + " (" + strsignal(sig) + ")";
    final_status = abort_requested ? TaskStatus::aborted : TaskStatus::failed;
  } else {
    exit_code = WEXITSTATUS(status);
    runtime["exit_code"] = std::to_string(exit_code);
    if (abort_requested) {
      final_status = TaskStatus::aborted;
      message = "interrupted; exit code " + std::to_string(exit_code);
    } else if (exit_code == 0) {
      final_status = TaskStatus::completed;
    } else {
      final_status = TaskStatus::failed;
      message = "exit code " + std::to_string(exit_code);
    }
  }
  Status flushed = rec.finish();
  TaskPatch patch;
  patch.runtime = runtime;
  RH_TRY(store->tasks().update(task.id, patch));
  RH_TRY(store->tasks().set_status(task.id, final_status, message));
  if (!flushed) {
    std::fprintf(stderr, "rh: some console or metrics could not be recorded: %s\n",
                 flushed.error().message.c_str());
  }
  std::fprintf(stderr, "rh: task %s %s%s%s\n", task.id.c_str(),
               std::string(to_string(final_status)).c_str(), message.empty() ? "" : ": ",
               message.c_str());
  return exit_code;
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

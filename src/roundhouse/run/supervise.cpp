#include "roundhouse/run/supervise.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "roundhouse/run/tensorboard.h"
#include "roundhouse/util/fs.h"

extern char** environ;

namespace rh {

namespace {

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

// Echoes the child's output; our own stdout closed is no reason to stop recording.
void echo(int fd, const char* p, size_t n) {
  (void)write_all(fd, p, n);
}

}  // namespace

std::vector<std::string> current_environment(const std::vector<std::string>& drop) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    bool skip = false;
    for (const auto& d : drop)
      skip = skip || (kv.size() > d.size() && kv.starts_with(d) && kv[d.size()] == '=');
    if (!skip)
      out.emplace_back(kv);
  }
  return out;
}

TaskStatus SuperviseResult::final_status(std::string& message,
                                         std::map<std::string, std::string>& runtime,
                                         const std::string& program) const {
  runtime["wall_time_s"] = std::to_string(wall_time_s);
  runtime["peak_rss_bytes"] = std::to_string(peak_rss_bytes);
  if (exec_failed) {
    message = "cannot run " + program + ": " + std::strerror(exec_errno);
    runtime["exit_code"] = "127";
    return TaskStatus::failed;
  }
  if (signal) {
    runtime["signal"] = std::to_string(signal);
    message = "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    if (signal == SIGKILL && !aborted)
      message += "; the kernel's OOM killer sends this when memory runs out";
    return aborted ? TaskStatus::aborted : TaskStatus::failed;
  }
  runtime["exit_code"] = std::to_string(exit_code);
  if (aborted) {
    message = "aborted; exit code " + std::to_string(exit_code);
    return TaskStatus::aborted;
  }
  if (exit_code == 0)
    return TaskStatus::completed;
  message = "exit code " + std::to_string(exit_code);
  return TaskStatus::failed;
}

Result<SuperviseResult> supervise(Recorder& rec, Env& env, SuperviseOptions opt) {
  int out_pipe[2], err_pipe[2], metrics_pipe[2], exec_status[2];
  if (::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC) || ::pipe(metrics_pipe) ||
      ::pipe2(exec_status, O_CLOEXEC)) {
    return make_error(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));
  }
  ::fcntl(metrics_pipe[0], F_SETFD, FD_CLOEXEC);
  std::string metrics_fd = std::to_string(metrics_pipe[1]);
  std::erase_if(opt.env, [](const std::string& kv) {
    return kv.starts_with("RH_METRICS_FD=") || kv.starts_with("RH_METRICS_FILE=");
  });
  std::erase_if(opt.env, [](const std::string& kv) { return kv.starts_with("RH_SUPERVISED="); });
  // The SDK inside leaves the console and the record of a normal end to us.
  opt.env.push_back("RH_SUPERVISED=1");
  opt.env.push_back("RH_METRICS_FD=" + metrics_fd);
  opt.env.push_back("RH_METRICS_FILE=/dev/fd/" + metrics_fd);
  std::vector<char*> envp;
  for (auto& s : opt.env)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : opt.argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  // execvpe searches the PATH of the calling process; use the child's.
  std::string path_env;
  for (const auto& kv : opt.env) {
    if (kv.starts_with("PATH="))
      path_env = kv.substr(5);
  }

  SuperviseResult res;
  res.started_at = env.now();
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0)
    return make_error(ErrorCode::io, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (opt.own_process_group)
      ::setpgid(0, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!opt.cwd.empty() && ::chdir(opt.cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_status[1], &e, sizeof e);
      _exit(127);
    }
    if (!path_env.empty())
      ::setenv("PATH", path_env.c_str(), 1);
    ::execvpe(args[0], args.data(), envp.data());
    int e = errno;
    (void)!::write(exec_status[1], &e, sizeof e);
    _exit(127);
  }
  if (opt.own_process_group)
    ::setpgid(pid, pid);  // also here: no race with an early signal
  if (opt.on_started)
    opt.on_started(pid);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(metrics_pipe[1]);
  ::close(exec_status[1]);
  res.exec_failed =
      ::read(exec_status[0], &res.exec_errno, sizeof res.exec_errno) == sizeof res.exec_errno;
  ::close(exec_status[0]);

  auto send = [&](int sig) { ::kill(opt.own_process_group ? -pid : pid, sig); };
  TbWatcher tb(opt.tensorboard_dir);
  MetricsStream metrics;
  struct pollfd fds[4] = {{out_pipe[0], POLLIN, 0},
                          {err_pipe[0], POLLIN, 0},
                          {metrics_pipe[0], POLLIN, 0},
                          {opt.wake_fd, POLLIN, 0}};
  int open_streams = 3;
  char buf[65536];
  auto last_tb = std::chrono::steady_clock::now();
  // When SIGKILL follows the stop signal; max() while no stop is pending.
  auto kill_at = std::chrono::steady_clock::time_point::max();
  bool exited = false;
  int status = 0;
  struct rusage ru {};
  auto reap = [&](int flags) {
    if (exited)
      return true;
    pid_t r;
    while ((r = ::wait4(pid, &status, flags, &ru)) < 0 && errno == EINTR) {
    }
    exited = r == pid;
    return exited;
  };
  // Streams close when the child and everything it started have exited (or
  // closed them); a child that exits while a grandchild keeps the pipes open
  // still ends the run once the grace period after an abort has passed.
  while (open_streams > 0) {
    int rc = ::poll(fds, opt.wake_fd >= 0 ? 4 : 3, 100);
    if (rc < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 4 && rc > 0; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t k = ::read(fds[i].fd, buf, sizeof buf);
      if (k < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (i == 3)
        continue;  // only a wake-up: check() below
      if (k <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_streams;
        continue;
      }
      std::string_view chunk(buf, static_cast<size_t>(k));
      if (i == 0) {
        if (opt.tee)
          echo(1, buf, chunk.size());
        rec.console(ConsoleStream::stdout_stream, chunk);
      } else if (i == 1) {
        if (opt.tee)
          echo(2, buf, chunk.size());
        rec.console(ConsoleStream::stderr_stream, chunk);
      } else {
        metrics.feed(chunk, rec, env);
      }
    }
    if (opt.check) {
      int sig = opt.check();
      if (sig != 0 && !res.aborted) {
        res.aborted = true;
        if (sig > 0)
          send(sig);
        kill_at = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(opt.kill_grace_s * 1000));
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= kill_at) {
      send(SIGKILL);
      kill_at = std::chrono::steady_clock::time_point::max();
      if (reap(0))
        break;  // a grandchild may hold the pipes: stop reading them
    }
    if (now - last_tb > std::chrono::milliseconds(500)) {
      tb.poll(rec);
      last_tb = now;
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0 && f.fd != opt.wake_fd)
      ::close(f.fd);
  }
  reap(0);
  res.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  tb.poll(rec);
  metrics.finish(rec, env);
  if (res.exec_failed) {
    res.exit_code = 127;
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
    res.exit_code = 128 + res.signal;
  } else {
    res.exit_code = WEXITSTATUS(status);
  }
  return res;
}

}  // namespace rh

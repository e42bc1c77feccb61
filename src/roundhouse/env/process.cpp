#include "roundhouse/env/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace rh {

Result<ProcessOutput> run_capture(const std::vector<std::string>& argv, const std::string& cwd,
                                  int timeout_ms, bool with_stderr) {
  if (argv.empty())
    return make_error(ErrorCode::invalid_argument, "empty command");
  int out[2], status_pipe[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0)
    return make_error(ErrorCode::io, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(with_stderr ? out[1] : devnull, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0)
      _exit(127);
    ::execvp(args[0], args.data());
    int e = errno;
    (void)!::write(status_pipe[1], &e, sizeof e);
    _exit(127);
  }
  ::close(out[1]);
  ::close(status_pipe[1]);
  int exec_errno = 0;
  bool exec_failed = ::read(status_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  ::close(status_pipe[0]);
  ProcessOutput result;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  char buf[65536];
  while (!exec_failed) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p {
      out[0], POLLIN, 0
    };
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc <= 0)
      continue;
    ssize_t k = ::read(out[0], buf, sizeof buf);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      break;
    result.out.append(buf, static_cast<size_t>(k));
  }
  ::close(out[0]);
  if (timed_out)
    ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) {
    return make_error(ErrorCode::not_found,
                      "cannot run " + argv[0] + ": " + std::strerror(exec_errno));
  }
  result.exit_code = (!timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace rh

#include "roundhouse/agent/warm_python.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

extern char** environ;

namespace rh::agent {

namespace {

bool is_python_name(const std::string& p) {
  std::string base = p.substr(p.rfind('/') + 1);
  if (base == "python" || base == "python3")
    return true;
  if (!base.starts_with("python3."))
    return false;
  return base.size() > 8 && std::all_of(base.begin() + 8, base.end(), ::isdigit);
}

// A word the shell takes as it is: no quoting, expansion, globbing or operators.
bool plain_word(const std::string& w) {
  for (char c : w) {
    if (std::strchr("|&;<>()$`\\\"' \t*?[]#~{}!", c))
      return false;
  }
  return !w.empty();
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& kv : env) {
    if (kv.size() > name.size() && kv.starts_with(name) && kv[name.size()] == '=')
      return kv.substr(name.size() + 1);
  }
  return "";
}

std::string find_on_path(const std::string& prog, const std::string& path) {
  if (prog.find('/') != std::string::npos)
    return prog;
  for (const auto& dir : split(path, ':')) {
    std::string p = (dir.empty() ? "." : dir) + "/" + prog;
    if (::access(p.c_str(), X_OK) == 0)
      return p;
  }
  return "";
}

}  // namespace

std::optional<std::vector<std::string>> plain_python_argv(const std::vector<std::string>& argv) {
  std::vector<std::string> words;
  if (argv.size() == 3 && argv[0] == "sh" && argv[1] == "-c") {
    for (const auto& w : split(argv[2], ' ')) {
      if (w.empty())
        continue;
      if (!plain_word(w))
        return std::nullopt;
      words.push_back(w);
    }
  } else {
    words = argv;
  }
  if (words.size() < 2 || !is_python_name(words[0]))
    return std::nullopt;
  if (words[1] == "-m")
    return words.size() >= 3 && !words[2].starts_with("-") ? std::optional(words) : std::nullopt;
  if (words[1].starts_with("-") || !words[1].ends_with(".py"))
    return std::nullopt;
  return words;
}

WarmPython::WarmPython(std::string dir, std::string relay_exe)
    : m_dir(std::move(dir)), m_relay(std::move(relay_exe)) {}

WarmPython::~WarmPython() {
  stop();
}

void WarmPython::stop() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGTERM);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
  m_pid = -1;
  if (!m_socket.empty())
    ::unlink(m_socket.c_str());
  m_socket.clear();
  m_key.clear();
}

std::vector<std::string> WarmPython::wrap(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& env,
                                          const std::string& context_dir, const std::string& key,
                                          const std::function<void(const std::string&)>& note) {
  auto words = plain_python_argv(argv);
  if (!words || m_relay.empty())
    return argv;
  std::string python = find_on_path((*words)[0], env_value(env, "PATH"));
  if (python.empty())
    return argv;
  std::string target = (*words)[1] == "-m" ? "-m " + (*words)[2] : (*words)[1];
  std::string full_key = python + "\n" + target + "\n" + key + "\n" + env_value(env, "PYTHONPATH");
  if (m_pid > 0) {
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      note("the warm interpreter exited; starting another");
      m_pid = -1;
      m_key.clear();
    }
  }
  if (full_key != m_key) {
    stop();
    if (!make_dirs(m_dir)) {
      return argv;
    }
    m_socket = m_dir + "/zygote-" + std::to_string(::getpid()) + "-" + std::to_string(++m_serial) +
               ".sock";
    if (m_socket.size() >= sizeof(sockaddr_un::sun_path))
      m_socket =
          "/tmp/rh-zygote-" + std::to_string(::getpid()) + "-" + std::to_string(m_serial) + ".sock";
    std::vector<std::string> args = {python,   "-m",   "roundhouse._zygote",
                                     m_socket, target, context_dir};
    // Its environment is the trial's, less what is the trial's alone.
    std::vector<std::string> zenv;
    for (const auto& kv : env) {
      if (!kv.starts_with("RH_TASK_ID=") && !kv.starts_with("RH_TRIAL_DIR=") &&
          !kv.starts_with("RH_METRICS_") && !kv.starts_with("RH_SUPERVISED="))
        zenv.push_back(kv);
    }
    std::vector<char*> a, e;
    for (auto& s : args)
      a.push_back(s.data());
    a.push_back(nullptr);
    for (auto& s : zenv)
      e.push_back(s.data());
    e.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);                     // the agent's Ctrl-C is not the zygote's
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // but an agent that dies takes it along
      if (::getppid() == 1)
        _exit(0);
      if (::chdir(m_dir.c_str()) != 0)
        _exit(127);
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0)
        ::dup2(devnull, 0);
      ::execve(a[0], a.data(), e.data());
      _exit(127);
    }
    if (pid < 0)
      return argv;
    m_pid = pid;
    m_key = full_key;
    note("warm interpreter started for " + target + " (pid " + std::to_string(pid) + ")");
  }
  std::vector<std::string> out = {m_relay, "trial-relay", m_socket, "--"};
  out.insert(out.end(), words->begin(), words->end());
  return out;
}

namespace {

bool read_line(int fd, std::string& line) {
  line.clear();
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    if (c == '\n')
      return true;
    line.push_back(c);
  }
}

[[noreturn]] void exec_it(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv)
    a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  ::execvp(a[0], a.data());
  std::fprintf(stderr, "rh trial-relay: cannot run %s: %s\n", a[0], std::strerror(errno));
  _exit(127);
}

}  // namespace

int relay_trial(const std::string& socket_path, const std::vector<std::string>& argv) {
  if (argv.empty())
    return 2;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    exec_it(argv);  // no warm interpreter (yet): a cold start
  nlohmann::json env = nlohmann::json::object();
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<int> fds = {0, 1, 2};
  if (const char* m = std::getenv("RH_METRICS_FD"))
    fds.push_back(std::atoi(m));
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd))
    exec_it(argv);
  std::string req =
      nlohmann::json{
          {"argv", argv}, {"env", env}, {"cwd", cwd}, {"pgid", ::getpgrp()}, {"fds", fds}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
      "\n";
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  iovec iov{req.data(), req.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  ssize_t sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  if (sent < 0)
    exec_it(argv);
  if (size_t(sent) < req.size() && !write_all(fd, req.data() + sent, req.size() - size_t(sent)))
    exec_it(argv);
  std::string line;
  if (!read_line(fd, line) || !line.starts_with("pid "))
    exec_it(argv);  // the zygote refused or died before forking: nothing ran
  pid_t child = std::atoi(line.c_str() + 4);
  // The child is in this process group: the agent's signals reach it
  // directly. This process only waits and ends as the child did.
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  if (!read_line(fd, line)) {
    std::fprintf(stderr, "rh trial-relay: the warm interpreter went away; stopping the trial\n");
    ::kill(child, SIGKILL);
    return 1;
  }
  if (line.starts_with("signal ")) {
    int sig = std::atoi(line.c_str() + 7);
    ::signal(sig, SIG_DFL);
    ::kill(::getpid(), sig);
    return 128 + sig;
  }
  return line.starts_with("exit ") ? std::atoi(line.c_str() + 5) : 1;
}

}  // namespace rh::agent

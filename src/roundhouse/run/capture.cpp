#include "roundhouse/run/capture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "roundhouse/env/process.h"
#include "roundhouse/run/tree_patch.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh {

namespace {

bool is_regular_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Whether the file starts with "#!" (reads two bytes, not the whole file:
// argv[0] may be a large binary).
bool has_shebang(const std::string& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char head[2] = {0, 0};
  bool yes = ::read(fd, head, 2) == 2 && head[0] == '#' && head[1] == '!';
  ::close(fd);
  return yes;
}

std::string git_line(const std::string& cwd, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", cwd});
  auto r = run_capture(args, {}, 10000);
  if (!r || r->exit_code != 0)
    return {};
  return std::string(trim(r->out));
}

std::string absolute(const std::string& p, const std::string& cwd) {
  return !p.empty() && p[0] == '/' ? p : cwd + "/" + p;
}

bool is_interpreter(const std::string& prog, const char* name) {
  std::string base = basename_of(prog);
  return base.rfind(name, 0) == 0;
}

}  // namespace

std::string find_script(const std::vector<std::string>& argv, const std::string& cwd) {
  if (argv.empty())
    return {};
  if (argv[0].find('/') != std::string::npos && is_regular_file(absolute(argv[0], cwd))) {
    // A script run directly (./train.sh); a binary is not a script.
    if (has_shebang(absolute(argv[0], cwd)))
      return argv[0];
  }
  for (size_t i = 1; i < argv.size(); ++i) {
    const auto& a = argv[i];
    if (a.empty() || a[0] == '-') {
      if (a == "-m" || a == "-c")
        return {};  // python -m module / -c code: no file
      continue;
    }
    if (is_regular_file(absolute(a, cwd)))
      return a;
    return {};
  }
  return {};
}

Script capture_script(const std::vector<std::string>& argv, const std::string& cwd,
                      const CaptureLimits& limits) {
  Script s;
  s.argv = argv;
  std::string script = find_script(argv, cwd);
  s.entry_point = script.empty() ? (argv.empty() ? "" : argv[0]) : script;
  // The repository is the script's, which need not be the one we run from.
  std::string script_abs = script.empty() ? "" : absolute(script, cwd);
  std::string probe = script_abs.empty() ? cwd : dirname_of(script_abs);
  std::string root = git_line(probe, {"rev-parse", "--show-toplevel"});
  if (!root.empty()) {
    s.repository = git_line(root, {"remote", "get-url", "origin"});
    if (s.repository.empty())
      s.repository = root;
    s.branch = git_line(root, {"rev-parse", "--abbrev-ref", "HEAD"});
    s.commit = git_line(root, {"rev-parse", "--verify", "--quiet", "HEAD^{commit}"});
    if (s.branch == "HEAD" && s.commit.empty())  // no commit yet: the branch HEAD will name
      s.branch = git_line(root, {"symbolic-ref", "--short", "HEAD"});
    bool cwd_inside = (cwd + "/").rfind(root + "/", 0) == 0;
    std::string wd = cwd_inside ? cwd : probe;
    s.working_dir = wd.size() > root.size() ? wd.substr(root.size() + 1) : ".";
    if (!cwd_inside && !script.empty())
      s.entry_point = basename_of(script_abs);
    TreePatchLimits tl{limits.max_untracked_files, limits.max_untracked_bytes,
                       limits.max_binary_bytes};
    if (auto patch = working_tree_patch(root, !s.commit.empty(), tl))
      s.diff = std::move(patch->diff);
    else
      s.diff = "# the uncommitted changes could not be recorded: " + patch.error().message + "\n";
    return s;
  }
  if (!script.empty()) {
    auto content = read_file(absolute(script, cwd));
    if (content && content->size() <= limits.max_script_bytes && is_valid_utf8(*content)) {
      s.content = *content;
    }
  }
  s.working_dir = cwd;
  return s;
}

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

Environment capture_environment(const std::vector<std::string>& argv) {
  Environment e;
  e.host = host_name();
  struct utsname u;
  if (::uname(&u) == 0)
    e.os = std::string(u.sysname) + " " + u.release + " " + u.machine;
  if (auto rel = read_file("/etc/os-release")) {
    for (const auto& line : split(*rel, '\n')) {
      if (line.rfind("PRETTY_NAME=", 0) == 0) {
        std::string v = line.substr(12);
        if (v.size() >= 2 && v.front() == '"')
          v = v.substr(1, v.size() - 2);
        e.os += " (" + v + ")";
      }
    }
  }
  if (argv.empty())
    return e;
  const std::string& prog = argv[0];
  for (const char* name : {"python", "node", "ruby", "perl", "Rscript", "julia", "bash", "sh"}) {
    if (!is_interpreter(prog, name))
      continue;
    auto v = run_capture({prog, "--version"}, {}, 5000);
    auto path = run_capture({"sh", "-c", "command -v \"$0\"", prog}, {}, 2000);
    std::string version = v && v->exit_code == 0 ? std::string(trim(v->out)) : "";
    version = version.substr(0, version.find('\n'));
    std::string where = path && path->exit_code == 0 ? std::string(trim(path->out)) : prog;
    e.interpreter = version.empty() ? where : version + " (" + where + ")";
    if (std::string(name) == "python") {
      auto freeze =
          run_capture({prog, "-m", "pip", "freeze", "--disable-pip-version-check"}, {}, 20000);
      if (freeze && freeze->exit_code == 0)
        e.freeze = freeze->out;
    }
    break;
  }
  return e;
}

}  // namespace rh

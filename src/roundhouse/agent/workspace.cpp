#include "roundhouse/agent/workspace.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "roundhouse/env/process.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/run/tree_patch.h"
#include "roundhouse/util/file_lock.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::agent {

namespace {

constexpr int k_git_timeout_ms = 10 * 60 * 1000;
constexpr int k_pip_timeout_ms = 30 * 60 * 1000;

std::string short_hash(const std::string& text) {
  return std::string(digest_hex(sha256_digest(text)).substr(0, 16));
}

std::string tail(const std::string& s, size_t n = 2000) {
  std::string t = s.size() > n ? "…" + s.substr(s.size() - n) : s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
    t.pop_back();
  return t;
}

Status git(const std::vector<std::string>& args, const std::string& cwd, const std::string& what) {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  RH_TRY_ASSIGN(ProcessOutput out, run_capture(argv, cwd, k_git_timeout_ms, true));
  if (out.exit_code != 0)
    return make_error(ErrorCode::io, what + ": " + tail(out.out));
  return {};
}

// Applies the task's recorded diff in ws.root (a checkout of its commit, or an
// empty repository); notes what happened, and what the recording left out.
Status apply_diff(const Task& t, const std::string& workdir, Workspace& ws) {
  const Script& s = t.script;
  std::string base = s.commit.empty() ? "an empty tree" : s.commit.substr(0, 12);
  if (s.diff.starts_with("# ")) {
    std::string first = s.diff.substr(2, s.diff.find('\n') - 2);
    ws.notes.push_back("the recorded diff says: " + first);
  }
  if (!has_patches(s.diff)) {
    ws.notes.push_back("checked out " + base);
    return {};
  }
  std::string patch = workdir + "/tasks/" + t.id + ".diff";
  RH_TRY(write_file_atomic(patch, s.diff.ends_with("\n") ? s.diff : s.diff + "\n"));
  auto applied = run_capture({"git", "apply", "--whitespace=nowarn", "--binary", patch}, ws.root,
                             k_git_timeout_ms, true);
  (void)::unlink(patch.c_str());
  if (!applied)
    return std::unexpected(applied.error());
  if (applied->exit_code != 0) {
    return make_error(ErrorCode::conflict, "the recorded uncommitted changes no longer apply to " +
                                               (s.commit.empty() ? base : "commit " + base) + ": " +
                                               tail(applied->out));
  }
  ws.notes.push_back("checked out " + base + " and applied the recorded diff");
  return {};
}

}  // namespace

Result<Workspace> build_workspace(const Task& t, const std::string& workdir) {
  const Script& s = t.script;
  // The task comes from the server: its ID and working folder name paths
  // under workdir, so neither may leave it.
  if (t.id.empty() || !is_hex(t.id))
    return make_error(ErrorCode::invalid_argument, "task ID \"" + t.id + "\" is not hexadecimal");
  // In a repository the working folder is a path inside it; a script
  // recorded outside git names the folder it ran in on its own machine,
  // which says nothing here (the script runs in the workspace).
  if (!s.repository.empty() && !s.working_dir.empty() && s.working_dir != ".")
    RH_TRY(validate_relative_path("working folder", s.working_dir));
  Workspace ws;
  ws.root = workdir + "/tasks/" + t.id;
  RH_TRY(remove_all(ws.root));
  RH_TRY(make_dirs(workdir + "/repos"));
  if (!s.repository.empty() && !s.commit.empty()) {
    std::string mirror = workdir + "/repos/" + short_hash(s.repository) + ".git";
    FileLock lock(mirror + ".lock");  // agents sharing a workdir fetch one at a time
    bool fresh = false;
    if (!path_exists(mirror)) {
      fresh = true;
      std::string tmp = mirror + ".tmp" + std::to_string(::getpid());
      RH_TRY(remove_all(tmp));
      RH_TRY(git({"clone", "--quiet", "--mirror", s.repository, tmp}, "",
                 "cannot fetch repository " + s.repository));
      RH_TRY(rename_path(tmp, mirror));
      ws.notes.push_back("fetched " + s.repository);
    }
    auto has = run_capture({"git", "-C", mirror, "cat-file", "-e", s.commit + "^{commit}"}, "",
                           k_git_timeout_ms);
    if (!has || has->exit_code != 0) {
      RH_TRY(git({"-C", mirror, "fetch", "--quiet", "--prune", "origin"}, "",
                 "cannot update the mirror of " + s.repository));
      ws.notes.push_back("updated the mirror of " + s.repository);
      auto again = run_capture({"git", "-C", mirror, "cat-file", "-e", s.commit + "^{commit}"});
      if (!again || again->exit_code != 0) {
        return make_error(ErrorCode::not_found, "commit " + s.commit + " is not in " +
                                                    s.repository + " (was it pushed?)");
      }
    } else if (!fresh) {
      ws.notes.push_back("repository " + s.repository + " from the cache");
    }
    RH_TRY(make_dirs(workdir + "/tasks"));
    RH_TRY(git({"clone", "--quiet", "--shared", "--no-checkout", mirror, ws.root}, "",
               "cannot clone the cached repository"));
    RH_TRY(git({"-c", "advice.detachedHead=false", "checkout", "--quiet", s.commit}, ws.root,
               "cannot check out " + s.commit));
    RH_TRY(apply_diff(t, workdir, ws));
    ws.run_dir =
        s.working_dir.empty() || s.working_dir == "." ? ws.root : ws.root + "/" + s.working_dir;
    if (!path_exists(ws.run_dir)) {
      return make_error(ErrorCode::not_found,
                        "working folder " + s.working_dir + " is not in the checkout");
    }
    return ws;
  }
  if (!s.repository.empty() && s.commit.empty() && has_patches(s.diff)) {
    // Recorded in a repository with no commit yet: the diff is the whole tree.
    RH_TRY(make_dirs(ws.root));
    RH_TRY(git({"init", "--quiet", ws.root}, "", "cannot make a repository for the task"));
    RH_TRY(apply_diff(t, workdir, ws));
    ws.run_dir =
        s.working_dir.empty() || s.working_dir == "." ? ws.root : ws.root + "/" + s.working_dir;
    if (!path_exists(ws.run_dir)) {
      return make_error(ErrorCode::not_found,
                        "working folder " + s.working_dir + " is not in the recorded tree");
    }
    return ws;
  }
  if (!s.content.empty()) {
    std::string name = s.entry_point.empty() ? "script.py" : basename_of(s.entry_point);
    RH_TRY(make_dirs(ws.root));
    RH_TRY(write_file_atomic(ws.root + "/" + name, s.content));
    ws.run_dir = ws.root;
    ws.notes.push_back("wrote the recorded script " + name);
    return ws;
  }
  return make_error(ErrorCode::invalid_argument,
                    "the task records no code: no repository and commit, and no script content");
}

Result<Venv> build_venv(const std::string& requirements, const std::string& python,
                        const std::string& workdir) {
  // The requirements an agent installs: one per line, comments and the SDK left out.
  std::vector<std::string> reqs;
  for (auto& line : split(requirements, '\n')) {
    std::string l(trim(line));
    if (l.empty() || l.starts_with("#"))
      continue;
    std::string name = l.substr(0, l.find_first_of("=<>!~[; "));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name == "roundhouse")
      continue;
    reqs.push_back(l);
  }
  std::sort(reqs.begin(), reqs.end());
  // The interpreter's version is part of the key; asked once per interpreter
  // (starting Python costs more than the rest of a cached setup).
  static std::mutex cache_mu;
  static std::map<std::string, std::string> versions;
  std::string version_text;
  {
    std::lock_guard lk(cache_mu);
    if (auto it = versions.find(python); it != versions.end())
      version_text = it->second;
  }
  if (version_text.empty()) {
    auto version = run_capture({python, "-c", "import sys; print(sys.version)"});
    if (!version || version->exit_code != 0)
      return make_error(ErrorCode::not_found, "cannot run the interpreter " + python);
    version_text = version->out;
    std::lock_guard lk(cache_mu);
    versions[python] = version_text;
  }
  Venv v;
  v.dir = workdir + "/venvs/" + short_hash(python + "\n" + version_text + "\n" + join(reqs, "\n"));
  v.python = v.dir + "/bin/python";
  RH_TRY(make_dirs(workdir + "/venvs"));
  FileLock lock(v.dir + ".lock");
  std::string ready = v.dir + "/.rh-ready";
  std::string failed_file = v.dir + "/.rh-failed";
  if (path_exists(ready)) {
    v.reused = true;
    if (auto f = read_file(failed_file)) {
      for (auto& l : split(*f, '\n'))
        if (!l.empty())
          v.failed.push_back(l);
    }
    v.notes.push_back("environment " + v.dir + " reused");
    return v;
  }
  RH_TRY(remove_all(v.dir));  // a half-built one from an interrupted agent
  RH_TRY_ASSIGN(ProcessOutput mk,
                run_capture({python, "-m", "venv", "--system-site-packages", v.dir}, "",
                            k_pip_timeout_ms, true));
  if (mk.exit_code != 0)
    return make_error(ErrorCode::io, "cannot create a venv with " + python + ": " + tail(mk.out));
  if (!reqs.empty()) {
    std::string req_file = v.dir + "/requirements.txt";
    RH_TRY(write_file_atomic(req_file, join(reqs, "\n") + "\n"));
    std::vector<std::string> pip{
        v.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"};
    auto all = pip;
    all.insert(all.end(), {"-r", req_file});
    RH_TRY_ASSIGN(ProcessOutput out, run_capture(all, "", k_pip_timeout_ms, true));
    if (out.exit_code == 0) {
      v.notes.push_back("installed " + std::to_string(reqs.size()) + " requirement(s)");
    } else {
      // One at a time: keep what installs, report the rest.
      for (const auto& r : reqs) {
        auto one = pip;
        one.push_back(r);
        RH_TRY_ASSIGN(ProcessOutput o, run_capture(one, "", k_pip_timeout_ms, true));
        if (o.exit_code != 0)
          v.failed.push_back(r);
      }
      v.notes.push_back("installed " + std::to_string(reqs.size() - v.failed.size()) + " of " +
                        std::to_string(reqs.size()) + " requirement(s)");
    }
  }
  RH_TRY(write_file_atomic(failed_file, join(v.failed, "\n")));
  RH_TRY(write_file_atomic(ready, ""));
  v.notes.push_back("environment " + v.dir + " built");
  return v;
}

std::vector<std::string> task_command(const Task& t, const std::string& python) {
  const Script& s = t.script;
  std::string entry = s.entry_point.empty() ? "script.py" : s.entry_point;
  if (!s.repository.empty() && !s.commit.empty()) {
    // In a checkout the entry point is relative to the working folder.
  } else {
    entry = basename_of(entry);
  }
  const auto& a = s.argv;
  if (a.empty())
    return {python, entry};
  std::string prog = basename_of(a[0]);
  if (prog.starts_with("python")) {
    if (a.size() >= 3 && a[1] == "-m")
      return [&] {
        std::vector<std::string> out{python};
        out.insert(out.end(), a.begin() + 1, a.end());
        return out;
      }();
    std::vector<std::string> out{python, entry};
    if (a.size() >= 2 && !a[1].starts_with("-"))
      out.insert(out.end(), a.begin() + 2, a.end());
    return out;
  }
  // Not Python: the recorded command, with the program found in the workspace
  // when it is the entry point.
  std::vector<std::string> out = a;
  if (basename_of(a[0]) == basename_of(entry))
    out[0] = "./" + entry;
  return out;
}

}  // namespace rh::agent

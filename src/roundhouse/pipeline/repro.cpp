#include "roundhouse/pipeline/repro.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "roundhouse/hash/md5.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/pipeline/dvc_hash.h"
#include "roundhouse/pipeline/gitignore.h"
#include "roundhouse/pipeline/hash_cache.h"
#include "roundhouse/pipeline/params.h"
#include "roundhouse/pipeline/run_cache.h"
#include "roundhouse/util/file_lock.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

// Values compared as Python compares them: 50 == 50.0, mappings by content.
bool same(const YValue& a, const YValue& b) {
  auto num = [](const YValue& v, double& out) {
    if (auto* i = std::get_if<int64_t>(&v.v))
      return out = double(*i), true;
    if (auto* d = std::get_if<double>(&v.v))
      return out = *d, true;
    return false;
  };
  double x, y;
  if (num(a, x) && num(b, y))
    return x == y;
  if (auto* ma = std::get_if<YMap>(&a.v)) {
    auto* mb = std::get_if<YMap>(&b.v);
    if (!mb || ma->size() != mb->size())
      return false;
    for (const auto& [k, v] : *ma) {
      auto it = std::find_if(mb->begin(), mb->end(), [&](const auto& e) { return e.first == k; });
      if (it == mb->end() || !same(v, it->second))
        return false;
    }
    return true;
  }
  if (auto* sa = std::get_if<YSeq>(&a.v)) {
    auto* sb = std::get_if<YSeq>(&b.v);
    if (!sb || sa->size() != sb->size())
      return false;
    for (size_t i = 0; i < sa->size(); ++i)
      if (!same((*sa)[i], (*sb)[i]))
        return false;
    return true;
  }
  return a == b;
}

const YValue* lookup(const YValue& root, const std::string& dotted) {
  auto* m = std::get_if<YMap>(&root.v);
  if (!m)
    return nullptr;
  for (const auto& [k, v] : *m)
    if (k == dotted)
      return &v;
  const YValue* at = &root;
  for (const auto& part : split(dotted, '.')) {
    auto* mm = std::get_if<YMap>(&at->v);
    if (!mm)
      return nullptr;
    auto it = std::find_if(mm->begin(), mm->end(), [&](const auto& e) { return e.first == part; });
    if (it == mm->end())
      return nullptr;
    at = &it->second;
  }
  return at;
}

Result<YValue> params_file(const std::string& abs) {
  if (abs.ends_with(".json") || abs.ends_with(".toml") || abs.ends_with(".py")) {
    RH_TRY_ASSIGN(Json j, read_params(abs));
    return yvalue_of(j);
  }
  if (!path_exists(abs))
    return make_error(ErrorCode::not_found, abs + " does not exist");
  try {
    YAML::Node n = YAML::LoadFile(abs);
    return n.IsNull() ? YValue(YMap{}) : read_yaml_value(n);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::invalid_argument,
                      abs + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

// DVC 2's text hash: a text file's md5 with CRLF read as LF.
Result<std::string> legacy_md5(const std::string& path) {
  RH_TRY_ASSIGN(std::string bytes, read_file(path));
  std::string_view head(bytes.data(), std::min<size_t>(bytes.size(), 512));
  bool text = head.find('\0') == std::string_view::npos;
  if (text && !head.empty()) {
    size_t nontext = 0;
    for (unsigned char c : head)
      nontext += !(c == 7 || c == 8 || c == 9 || c == 10 || c == 12 || c == 13 || c == 27 ||
                   (c >= 0x20 && c != 0x7F));
    text = double(nontext) / double(head.size()) <= 0.30;
  }
  if (!text)
    return md5_hex(bytes);
  std::string lf;
  lf.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n')
      continue;
    lf += bytes[i];
  }
  return md5_hex(lf);
}

struct Current {
  StageLock entry;  // what the lock would hold now (outs only where present)
  std::vector<bool> dep_missing;
};

Result<Current> current(const Project& p, const Stage& s, bool hash_outs) {
  Current c;
  c.entry.name = s.name;
  if (s.cmd.size() == 1) {
    c.entry.cmd = s.cmd[0];
  } else {
    YSeq cmds;
    for (const auto& x : s.cmd)
      cmds.push_back(x);
    c.entry.cmd = cmds;
  }
  for (const auto& d : s.deps) {
    auto h = hash_path(p.root + "/" + d.rel, p.hashes.get());
    c.dep_missing.push_back(!h);
    c.entry.deps.push_back(h ? locked_path(d.path, *h)
                             : LockedPath{d.path, "", 0, std::nullopt, false});
  }
  for (const auto& pd : s.params) {
    RH_TRY_ASSIGN(YValue file, params_file(p.root + "/" + pd.rel));
    YMap values;
    if (pd.all) {
      if (auto* m = std::get_if<YMap>(&file.v))
        values = *m;
    } else {
      for (const auto& k : pd.keys) {
        const YValue* v = lookup(file, k);
        if (!v)
          return make_error(ErrorCode::invalid_argument,
                            "stage '" + s.name + "': " + pd.rel + " has no parameter '" + k + "'");
        values.emplace_back(k, *v);
      }
    }
    std::stable_sort(values.begin(), values.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    c.entry.params.emplace_back(pd.file, values);
  }
  if (hash_outs) {
    for (const auto& o : s.outs) {
      auto h = hash_path(p.root + "/" + o.rel, p.hashes.get());
      if (!h)
        continue;
      c.entry.outs.push_back(locked_path(o.path, *h));
    }
  }
  return c;
}

Result<std::string> md5_as_locked(const std::string& abs, const LockedPath& locked,
                                  const std::string& now) {
  if (!locked.legacy || locked.nfiles)
    return now;
  return legacy_md5(abs);
}

// Runs cmd with /bin/sh in cwd. With `piped`, its output (both streams)
// goes to `line` line by line; else it stays on rh's own stdout and stderr.
Status run_command(const std::string& cmd, const std::string& cwd, bool piped,
                   const std::function<void(const std::string&)>& line) {
  int pipe_fd[2] = {-1, -1};
  if (piped && ::pipe2(pipe_fd, O_CLOEXEC) != 0)
    return make_error(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0)
    return make_error(ErrorCode::io, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (pipe_fd[1] >= 0) {
      ::dup2(pipe_fd[1], 1);
      ::dup2(pipe_fd[1], 2);
    }
    if (::chdir(cwd.c_str()) != 0)
      _exit(127);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pipe_fd[0] >= 0) {
    ::close(pipe_fd[1]);
    std::string buf;
    char chunk[4096];
    for (;;) {
      ssize_t n = ::read(pipe_fd[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      buf.append(chunk, size_t(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        line(buf.substr(0, nl));
        buf.erase(0, nl + 1);
      }
    }
    if (!buf.empty())
      line(buf);
    ::close(pipe_fd[0]);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return {};
  std::string how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                        : "exited with " + std::to_string(WEXITSTATUS(status));
  return make_error(ErrorCode::conflict, "`" + cmd + "` " + how);
}

}  // namespace

Result<Project> open_project(const std::string& root, const std::string& pipeline_file) {
  Project p;
  p.root = root;
  RH_TRY_ASSIGN(p.file, load_pipeline_file(root, pipeline_file));
  p.layout = repo_layout(root, p.file.dvc);
  auto dag = build_dag(p.file.stages);
  if (!dag)
    return make_error(dag.error().code, pipeline_file + ": " + dag.error().message);
  p.dag = std::move(*dag);
  p.lock_path = lock_path_for(pipeline_file);
  RH_TRY_ASSIGN(p.lock, read_lock(root + "/" + p.lock_path));
  // The stat cache lives with repro's lock files (ignored by git).
  auto tmp = make_tmp(p.layout);
  p.hashes = std::make_shared<HashCache>(tmp ? *tmp + "/hashes.bin" : std::string());
  return p;
}

void save_hashes(const Project& p) {
  if (p.hashes)
    p.hashes->save();
}

Result<StageStatus> stage_status(const Project& p, const Stage& s) {
  return stage_status(p, s, p.lock.find(s.name));
}

Result<StageStatus> stage_status(const Project& p, const Stage& s, const StageLock* locked) {
  StageStatus st;
  st.stage = s.name;
  if (s.frozen)
    return st;
  st.always = s.always_changed || (s.deps.empty() && s.outs.empty());
  RH_TRY_ASSIGN(Current now, current(p, s, true));
  if (!locked) {
    st.never_run = true;
    return st;
  }
  st.command = !same(now.entry.cmd, locked->cmd);
  for (size_t i = 0; i < s.deps.size(); ++i) {
    const auto& d = now.entry.deps[i];
    auto it = std::find_if(locked->deps.begin(), locked->deps.end(),
                           [&](const LockedPath& l) { return l.path == d.path; });
    if (now.dep_missing[i]) {
      st.deps.emplace_back(d.path, "deleted");
    } else if (it == locked->deps.end()) {
      st.deps.emplace_back(d.path, "new");
    } else {
      RH_TRY_ASSIGN(std::string md5, md5_as_locked(p.root + "/" + s.deps[i].rel, *it, d.md5));
      if (md5 != it->md5)
        st.deps.emplace_back(d.path, "modified");
    }
  }
  for (const auto& l : locked->deps) {
    if (std::none_of(now.entry.deps.begin(), now.entry.deps.end(),
                     [&](const LockedPath& d) { return d.path == l.path; }))
      st.deps.emplace_back(l.path, "deleted");
  }
  for (const auto& [file, values] : now.entry.params) {
    const YMap* was = nullptr;
    for (const auto& [f, v] : locked->params)
      if (f == file)
        was = std::get_if<YMap>(&v.v);
    for (const auto& [k, v] : std::get<YMap>(values.v)) {
      const YValue* old = nullptr;
      if (was)
        for (const auto& [ok, ov] : *was)
          if (ok == k)
            old = &ov;
      if (!old)
        st.params.emplace_back(file, k + ": new");
      else if (!same(*old, v))
        st.params.emplace_back(file, k + ": modified");
    }
    if (was) {
      for (const auto& [ok, ov] : *was) {
        const auto& m = std::get<YMap>(values.v);
        if (std::none_of(m.begin(), m.end(), [&](const auto& e) { return e.first == ok; }))
          st.params.emplace_back(file, ok + ": deleted");
      }
    }
  }
  for (const auto& o : s.outs) {
    auto it = std::find_if(now.entry.outs.begin(), now.entry.outs.end(),
                           [&](const LockedPath& l) { return l.path == o.path; });
    auto was = std::find_if(locked->outs.begin(), locked->outs.end(),
                            [&](const LockedPath& l) { return l.path == o.path; });
    if (it == now.entry.outs.end()) {
      st.outs.emplace_back(o.path, "deleted");
    } else if (was == locked->outs.end()) {
      st.outs.emplace_back(o.path, "new");
    } else {
      RH_TRY_ASSIGN(std::string md5, md5_as_locked(p.root + "/" + o.rel, *was, it->md5));
      if (md5 != was->md5)
        st.outs.emplace_back(o.path, "modified");
    }
  }
  return st;
}

namespace {

// The lock file with `entry` put in, under its file lock in `locks`.
Status write_lock_entry(Project& p, const std::string& locks, StageLock entry) {
  FileLock file(locks + "/lockfile.lock");
  RH_TRY_ASSIGN(Lock disk, read_lock(p.root + "/" + p.lock_path));
  for (auto& e : p.lock.stages) {
    if (!disk.find(e.name))
      disk.put(e);
  }
  disk.put(std::move(entry));
  RH_TRY(write_file_atomic(p.root + "/" + p.lock_path, lock_text(disk)));
  p.lock = std::move(disk);
  return {};
}

enum class Outcome { ran, up_to_date, failed };

class Runner {
 public:
  Runner(Project& p, const ReproOptions& o, std::string locks)
      : m_p(p), m_o(o), m_locks(std::move(locks)) {}

  void say(const std::string& line) {
    std::lock_guard lk(m_say_mu);
    if (m_o.say)
      m_o.say(line);
  }

  // Decides and (when it must) runs one stage, holding its outs' locks.
  Result<Outcome> process(const Stage& s, bool upstream_ran) {
    if (s.frozen) {
      say("Stage '" + s.name + "' is frozen; not reproduced.");
      return Outcome::up_to_date;
    }
    std::vector<std::string> names;
    for (const auto& out : s.outs)
      names.push_back(m_locks + "/out-" + md5_hex(out.rel) + ".lock");
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<std::unique_ptr<FileLock>> held;  // in order: two repros never deadlock
    for (const auto& n : names)
      held.push_back(std::make_unique<FileLock>(n));
    RH_TRY(refresh_lock());
    std::optional<StageLock> locked = entry_of(s.name);
    RH_TRY_ASSIGN(StageStatus st, stage_status(m_p, s, locked ? &*locked : nullptr));
    bool must = m_o.force || st.changed() || (m_o.dry && upstream_ran);
    if (!must) {
      say("Stage '" + s.name + "' didn't change, skipping");
      return Outcome::up_to_date;
    }
    if (m_o.dry) {
      say("Would run stage '" + s.name + "'");
      return Outcome::ran;
    }
    if (!m_o.force && !m_o.no_run_cache && run_cacheable(s)) {
      RH_TRY_ASSIGN(bool restored, from_run_cache(s, locked));
      if (restored) {
        say("Stage '" + s.name + "' is cached - skipping run, checking out outputs");
        return Outcome::ran;
      }
    }
    say("Running stage '" + s.name + "':");
    if (m_o.observer)
      m_o.observer->started(s, st);
    Status ok = run(s);
    if (m_o.observer) {
      std::optional<StageLock> entry = ok ? entry_of(s.name) : std::nullopt;
      m_o.observer->finished(s, ok, entry ? &*entry : nullptr);
    }
    if (!ok) {
      say("error: " + ok.error().message);
      std::lock_guard lk(m_lock_mu);
      if (m_first_error)  // still no error recorded
        m_first_error = ok;
      return Outcome::failed;
    }
    return Outcome::ran;
  }

  void record(const Error& e) {
    std::lock_guard lk(m_lock_mu);
    if (m_first_error)
      m_first_error = std::unexpected(e);
  }
  // The first stage failure (success when none).
  Status error() {
    std::lock_guard lk(m_lock_mu);
    return m_first_error;
  }

 private:
  std::string runs_dir() const { return m_locks + "/runs"; }

  // The outs for these inputs from the run cache, and the lock entry.
  // The lock's own entry counts too: when the inputs are the locked ones
  // and only outs are missing (a fresh clone after a fetch), they come back
  // from the cache.
  Result<bool> from_run_cache(const Stage& s, const std::optional<StageLock>& locked) {
    RH_TRY_ASSIGN(Current in, current(m_p, s, false));
    std::string key = run_key(in.entry);
    auto found = find_run(runs_dir(), key);
    if (!found && locked && !locked->outs.empty() && run_key(*locked) == key)
      found = locked;
    if (!found)
      return false;
    RH_TRY_ASSIGN(bool ok, restore_outs(m_p.root, m_p.layout.cache(), s, *found));
    if (!ok)
      return false;
    in.entry.outs = found->outs;
    RH_TRY(write_entry(std::move(in.entry)));
    return true;
  }

  // Reads, updates and writes the lock file under its file lock: another
  // repro in this workspace may have written its stages meanwhile.
  Status write_entry(StageLock entry) {
    std::lock_guard lk(m_lock_mu);
    return write_lock_entry(m_p, m_locks, std::move(entry));
  }

  Status run(const Stage& s) {
    for (const auto& out : s.outs) {
      if (!out.persist)
        (void)remove_all(m_p.root + "/" + out.rel);
    }
    for (const auto& d : s.deps) {
      if (!path_exists(m_p.root + "/" + d.rel))
        return make_error(ErrorCode::not_found,
                          "stage '" + s.name + "': dep '" + d.path + "' does not exist");
    }
    std::string cwd = m_p.root + (s.wdir == "." ? "" : "/" + s.wdir);
    std::string prefix = m_o.jobs > 1 ? "[" + s.name + "] " : "";
    auto line = [&](const std::string& l) {
      say(prefix + l);
      if (m_o.observer)
        m_o.observer->output(s, l);
    };
    for (const auto& cmd : s.cmd) {
      say(prefix + "> " + cmd);
      if (m_o.observer)
        m_o.observer->output(s, "> " + cmd);
      bool piped = !prefix.empty() || m_o.observer;
      if (auto r = run_command(cmd, cwd, piped, line); !r)
        return make_error(ErrorCode::conflict, "stage '" + s.name + "': " + r.error().message);
    }
    for (const auto& out : s.outs) {
      if (!path_exists(m_p.root + "/" + out.rel))
        return make_error(
            ErrorCode::conflict,
            "stage '" + s.name + "': the command did not write out '" + out.path + "'");
    }
    RH_TRY_ASSIGN(Current now, current(m_p, s, false));
    // Each out hashed once; a cached out goes into the cache in the same
    // read, and into the .gitignore beside it.
    for (const auto& out : s.outs) {
      std::string abs = m_p.root + "/" + out.rel;
      bool cache = out.cache;
      auto h = cache ? hash_into_cache(abs, m_p.layout.cache(), m_p.hashes.get())
                     : hash_path(abs, m_p.hashes.get(), /*fresh=*/true);
      if (!h)
        return std::unexpected(h.error());
      now.entry.outs.push_back(locked_path(out.path, *h));
      if (cache) {
        std::lock_guard lk(m_lock_mu);
        RH_TRY(ignore_in_git(m_p.root, out.rel));
      }
    }
    if (run_cacheable(s)) {
      StageLock inputs = now.entry;
      inputs.outs.clear();
      RH_TRY(store_run(runs_dir(), run_key(inputs), now.entry));
    }
    return write_entry(std::move(now.entry));
  }

  Status refresh_lock() {
    std::lock_guard lk(m_lock_mu);
    FileLock file(m_locks + "/lockfile.lock");
    RH_TRY_ASSIGN(Lock disk, read_lock(m_p.root + "/" + m_p.lock_path));
    m_p.lock = std::move(disk);
    return {};
  }

  // The stage's lock entry as of now (a copy: another thread may write the
  // lock meanwhile). Everything else in the project stays as it was opened.
  std::optional<StageLock> entry_of(const std::string& name) {
    std::lock_guard lk(m_lock_mu);
    const StageLock* e = m_p.lock.find(name);
    return e ? std::optional<StageLock>(*e) : std::nullopt;
  }

  Project& m_p;
  const ReproOptions& m_o;
  std::string m_locks;
  std::mutex m_say_mu, m_lock_mu;
  Status m_first_error;
};

}  // namespace

Result<ReproResult> repro(Project& p, const ReproOptions& o) {
  RH_TRY_ASSIGN(std::vector<size_t> pick, select_stages(p.dag, o.targets, o.single, o.downstream));
  RH_TRY_ASSIGN(std::string locks, make_tmp(p.layout));
  Runner runner(p, o, locks);
  enum class State { waiting, running, ran, up_to_date, failed, not_run };
  std::map<size_t, State> state;
  for (size_t i : pick)
    state[i] = State::waiting;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  size_t running = 0;
  auto done_count = [&] {
    size_t n = 0;
    for (const auto& [i, s] : state)
      n += s != State::waiting && s != State::running;
    return n;
  };
  int jobs = o.dry ? 1 : std::max(1, o.jobs);
  // Every stage looked at first, side by side: one unchanged whose upstream
  // all stays unchanged needs nothing more (a no-op repro costs a stat per
  // file, on every core).
  std::vector<char> clean(p.dag.stages.size(), 0);
  if (!o.force) {
    RH_TRY(parallel_for(pick.size(), [&](size_t k) -> Status {
      const Stage& s = p.dag.stages[pick[k]];
      if (s.frozen)
        return {};
      RH_TRY_ASSIGN(StageStatus st, stage_status(p, s));
      clean[pick[k]] = !st.changed();
      return {};
    }));
  }
  auto worker = [&] {
    std::unique_lock lk(mu);
    for (;;) {
      std::optional<size_t> pick_one;
      for (;;) {
        bool changed = true;
        while (changed) {  // mark what can no longer run
          changed = false;
          for (size_t i : pick) {
            if (state[i] != State::waiting)
              continue;
            for (size_t a : p.dag.after[i]) {
              auto it = state.find(a);
              if (it != state.end() &&
                  (it->second == State::failed || it->second == State::not_run)) {
                state[i] = State::not_run;
                changed = true;
                break;
              }
            }
          }
        }
        pick_one.reset();
        for (size_t i : pick) {
          if (state[i] != State::waiting)
            continue;
          bool ready = true;
          for (size_t a : p.dag.after[i]) {
            auto it = state.find(a);
            if (it != state.end() && it->second != State::ran && it->second != State::up_to_date)
              ready = false;
          }
          if (ready) {
            pick_one = i;
            break;
          }
        }
        bool any_waiting = false;
        for (const auto& [i, s] : state)
          any_waiting = any_waiting || s == State::waiting;
        if (pick_one && !stop)
          break;
        if (stop || !any_waiting || (running == 0 && !pick_one)) {
          cv.notify_all();
          return;
        }
        cv.wait(lk);
      }
      size_t i = *pick_one;
      bool all_clean = clean[i];
      for (size_t a : p.dag.after[i]) {
        auto it = state.find(a);
        all_clean = all_clean && (it == state.end() || it->second == State::up_to_date);
      }
      if (all_clean) {
        state[i] = State::up_to_date;
        runner.say("Stage '" + p.dag.stages[i].name + "' didn't change, skipping");
        cv.notify_all();
        continue;
      }
      state[i] = State::running;
      ++running;
      bool upstream_ran = false;
      for (size_t a : p.dag.after[i]) {
        auto it = state.find(a);
        upstream_ran = upstream_ran || (it != state.end() && it->second == State::ran);
      }
      if (jobs > 1)
        runner.say("[" + std::to_string(done_count()) + "/" + std::to_string(pick.size()) +
                   " done, " + std::to_string(running) + " running] " + p.dag.stages[i].name);
      lk.unlock();
      auto r = runner.process(p.dag.stages[i], upstream_ran);
      lk.lock();
      --running;
      if (!r) {
        state[i] = State::failed;
        stop = !o.keep_going;
        runner.say("error: " + r.error().message);
        runner.record(r.error());
      } else {
        state[i] = *r == Outcome::ran          ? State::ran
                   : *r == Outcome::up_to_date ? State::up_to_date
                                               : State::failed;
        if (*r == Outcome::failed && !o.keep_going)
          stop = true;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t)
    threads.emplace_back(worker);
  for (auto& t : threads)
    t.join();
  ReproResult res;
  for (size_t i : pick) {
    const std::string& name = p.dag.stages[i].name;
    switch (state[i]) {
      case State::ran:
        res.ran.push_back(name);
        break;
      case State::up_to_date:
        res.skipped_up_to_date.push_back(name);
        break;
      case State::failed:
        res.failed.push_back(name);
        break;
      default:
        res.not_run.push_back(name);
        break;
    }
  }
  if (!res.failed.empty() && !o.keep_going) {
    Status e = runner.error();
    if (!e)
      return std::unexpected(e.error());
  }
  return res;
}

Status put_lock_entry(Project& p, StageLock entry) {
  RH_TRY_ASSIGN(std::string locks, make_tmp(p.layout));
  return write_lock_entry(p, locks, std::move(entry));
}

}  // namespace rh::pipeline

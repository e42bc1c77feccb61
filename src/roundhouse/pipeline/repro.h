// Status and reproduction of a pipeline's stages, with DVC's rules: a stage
// must run when it has no lock entry, its rendered command differs from the
// lock's, a dep's content changed or went missing (or the deps are not the
// locked ones), a tracked param's value changed (compared as values: 50 and
// 50.0 are equal, key order and untracked keys do not count), an out is
// missing or changed, or it is always_changed, or it has no deps and no
// outs. A frozen stage never runs. Running deletes the outs first (unless
// persist), runs each command with /bin/sh in the stage's wdir (stopping at
// the first failure), checks every out was written, hashes deps and outs,
// and records the stage in the lock at once (so an interrupted repro keeps
// what finished). With jobs > 1 independent stages run at once. Two repros
// in one workspace do not collide: a stage holds a lock on each of its outs
// while it decides and runs (the other waits, then finds it up to date),
// and the lock file is read, updated and written under its own file lock. Outs with `cache`
// go into the repository's cache (repo_layout.h; DVC's .dvc/cache for a DVC project, so `dvc
// status` sees them stored) and the .gitignore beside them, and the run cache (run_cache.h)
// remembers what each stage's inputs produced.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "roundhouse/pipeline/dag.h"
#include "roundhouse/pipeline/lock.h"
#include "roundhouse/pipeline/repo_layout.h"

namespace rh::pipeline {

struct StageStatus {
  std::string stage;
  bool never_run = false, command = false, always = false;
  std::vector<std::pair<std::string, std::string>> deps;    // path -> modified|deleted|new
  std::vector<std::pair<std::string, std::string>> params;  // file -> key: modified|new|deleted
  std::vector<std::pair<std::string, std::string>> outs;    // path -> modified|deleted
  bool changed() const {
    return never_run || command || always || !deps.empty() || !params.empty() || !outs.empty();
  }
};

class HashCache;

struct Project {
  std::string root;                   // the repository's top
  RepoLayout layout;                  // its cache and tmp folders
  std::shared_ptr<HashCache> hashes;  // the stat cache (hash_cache.h); saved by save_hashes()
  PipelineFile file;
  Dag dag;
  std::string lock_path;  // from the root
  Lock lock;
};

Result<Project> open_project(const std::string& root, const std::string& pipeline_file);
// Writes back what the stat cache learnt.
void save_hashes(const Project& p);

// What differs from the lock, for each stage (frozen ones: never).
Result<StageStatus> stage_status(const Project& p, const Stage& s);
// The same against this lock entry (none: never run); p.lock is not read.
Result<StageStatus> stage_status(const Project& p, const Stage& s, const StageLock* locked);

// What repro tells whoever records its runs (cli/stage_tasks.h records each
// run stage as a task on the server). Only stages whose commands run are
// told of (not those restored from the run cache). Calls for one stage come
// from the thread running it, in order; with -j, stages' calls interleave.
class StageObserver {
 public:
  virtual ~StageObserver() = default;
  // The stage's commands are about to run; `why` is what differed.
  virtual void started(const Stage& s, const StageStatus& why) = 0;
  // A line the commands wrote (stdout and stderr), without its newline.
  virtual void output(const Stage& s, const std::string& line) = 0;
  // The stage ended: ok, or why not; `entry` is its new lock entry when ok.
  virtual void finished(const Stage& s, const Status& result, const StageLock* entry) = 0;
};

struct ReproOptions {
  std::vector<std::string> targets;
  bool force = false, single = false, downstream = false, dry = false, keep_going = false;
  bool no_run_cache = false;  // run even when the run cache knows the outs (run_cache.h)
  int jobs = 1;               // stages run at once, where the graph allows
  // Progress lines, and (with jobs > 1) each command's output prefixed by
  // its stage; called from one thread at a time.
  std::function<void(const std::string&)> say;
  // With an observer, the commands' output is read line by line (and still
  // shown through `say`) rather than left on the terminal.
  StageObserver* observer = nullptr;
};

struct ReproResult {
  std::vector<std::string> ran, skipped_up_to_date, failed, not_run;
};

Result<ReproResult> repro(Project& p, const ReproOptions& o);

// Writes one stage's entry into the lock file (under the file lock repro
// holds, re-reading it first: another repro may have written its stages)
// and into p.lock.
Status put_lock_entry(Project& p, StageLock entry);

}  // namespace rh::pipeline

// The cached data a repository names: the outs with `cache` in its lock
// (the stages' outs, metrics and plots) and the paths of its tracked data
// files (tracked_file.h), in the workspace or at a git revision. What
// checkout, push, pull, fetch and `status -c` work through.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/pipeline/lock.h"
#include "roundhouse/pipeline/repo_layout.h"

namespace rh::pipeline {

struct Project;

struct DataEntry {
  std::string rel;         // from the repository root
  LockedPath lp;           // as the lock or tracked file records it
  bool persist = false;    // a stage's persist out: checked out as a writable copy
  bool push = true;        // false: the out says `push: false`
  std::string source;      // "stage 'train'" or "data.dvc"
  std::string rev;         // the git revision it is from; empty: the workspace
  bool stage_out = false;  // a stage's out (else tracked data)
};

// In the workspace. `project` (null when the repository has no pipeline
// file) gives the stages' outs from its lock. Targets: stage or group
// names, and tracked data files (or the paths they track); none: all.
// Unknown targets are an error naming them.
Result<std::vector<DataEntry>> workspace_data(const RepoLayout& l, const Project* project,
                                              const std::vector<std::string>& targets);

// The stage's outs without `cache` (metrics and plots kept in git), as
// entries of `e` (its lock entry): what stages run elsewhere carry through
// a remote as well (queued stages, cli/queued_stages.h).
struct Stage;
std::vector<DataEntry> uncached_outs(const Stage& s, const StageLock& e);

// At a git revision: every out of the lock file `lock_rel` as git holds it
// there (without the pipeline file, whose outs' flags need that revision's
// params: all of the lock's outs count, and an out that was never cached is
// simply absent from every cache), and the tracked data files git holds.
Result<std::vector<DataEntry>> revision_data(const RepoLayout& l, const std::string& lock_rel,
                                             const std::string& rev);

}  // namespace rh::pipeline

// `rh add PATH`: data tracked outside stages. PATH (a file or a folder) goes
// into the repository's cache, its content is recorded in PATH.dvc (DVC
// project) or PATH.rh (tracked_file.h; an existing one of either kind is
// updated, keeping what else it says), and PATH is listed in the .gitignore
// beside it. The workspace copy is left as it is. Refused, with the reason:
// a path outside the repository or inside .git/.dvc/.rh, a missing path, a
// stage's out, a path git already tracks, and a path inside (or holding)
// another tracked path.
#pragma once

#include <string>

#include "roundhouse/pipeline/lock.h"
#include "roundhouse/pipeline/repo_layout.h"

namespace rh::pipeline {

class HashCache;
struct Project;

struct Added {
  std::string tracked_file;  // from the root
  LockedPath entry;
  bool changed = false;  // the recorded content differs from before (or is new)
};

// `rel`: from the repository root, normalised. `project`: null without a
// pipeline file.
Result<Added> add_data(const RepoLayout& l, const Project* project, HashCache* hashes,
                       const std::string& rel);

}  // namespace rh::pipeline

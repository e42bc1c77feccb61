// Where a repository keeps its pipeline data. A DVC project (its top holds
// .dvc, or its pipeline file is dvc.yaml) keeps DVC's places, so DVC and rh
// share them: the cache .dvc/cache, data files tracked by `name.dvc`, and
// rh's own state in .dvc/tmp/rh (ignored by DVC's .dvc/.gitignore). Any
// other repository keeps Roundhouse's: .rh/cache, `name.rh`, .rh/tmp (the
// .rh/.gitignore written here keeps cache and tmp out of git; .rh/config is
// committed). Both caches have DVC 3's layout (dvc_cache.h). DVC's
// `cache.dir` setting is not read: its cache is taken to be the default.
#pragma once

#include <string>

#include "roundhouse/util/error.h"

namespace rh::pipeline {

struct RepoLayout {
  std::string root;  // the repository's top
  bool dvc = false;
  std::string cache_dir;  // DVC's `cache.dir` setting, absolute; empty: the default
  std::string cache() const {
    return !cache_dir.empty() ? cache_dir : root + (dvc ? "/.dvc/cache" : "/.rh/cache");
  }
  std::string tmp() const { return root + (dvc ? "/.dvc/tmp/rh" : "/.rh/tmp"); }
  // What a tracked data file's name ends with: ".dvc" or ".rh".
  std::string tracked_suffix() const { return dvc ? ".dvc" : ".rh"; }
};

// `dvc_file`: the repository's pipeline file is a dvc.yaml. A DVC project's
// `[cache] dir` (in .dvc/config, overridden by .dvc/config.local; a
// relative one from .dvc/, as DVC resolves it) moves its cache; a config
// that does not parse is left to the commands that read its remotes to
// report.
RepoLayout repo_layout(const std::string& root, bool dvc_file = false);

// Makes tmp() (and, for Roundhouse's layout, the .rh/.gitignore) and returns it.
Result<std::string> make_tmp(const RepoLayout& l);

}  // namespace rh::pipeline

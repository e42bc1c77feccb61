// Data tracked outside stages: `rh add PATH` records PATH's content in a
// file beside it, PATH.dvc in a DVC project (as `dvc add` writes it:
// `outs:` with md5, size, nfiles for folders, `hash: md5`, path) and PATH.rh
// elsewhere, in the same form; both kinds are read in either project.
// Paths in it are relative to its folder (or its `wdir`).
#pragma once

#include <string>
#include <vector>

#include "roundhouse/pipeline/lock.h"

namespace rh::pipeline {

struct TrackedFile {
  std::string file;  // from the repository root ("data.dvc", "sub/images.rh")
  std::string wdir;  // the folder its paths are relative to, from the root ("." at the top)
  std::vector<LockedPath> outs;
  std::vector<bool> cached;  // per out: false with `cache: false`
  YMap doc;                  // the whole file, so rewriting keeps what rh does not use
  // An out's path from the repository root.
  std::string rel(const LockedPath& o) const;
};

// Errors name the file and line.
Result<TrackedFile> parse_tracked_file(const std::string& file_rel, const std::string& text);
Result<TrackedFile> read_tracked_file(const std::string& root, const std::string& file_rel);

// The file's text with out `path` (relative to its folder) recorded as
// `lp`: an existing entry's hash fields replaced in place, else a new one.
std::string tracked_file_text(TrackedFile& t, const LockedPath& lp);

// Every .dvc and .rh file in the repository (not under .git, .dvc, .rh or
// a folder that is itself tracked), sorted.
Result<std::vector<std::string>> find_tracked_files(const std::string& root);

}  // namespace rh::pipeline

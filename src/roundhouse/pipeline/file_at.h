// A pipeline's files as they were at a revision, for metrics, params and
// plots of old revisions: "workspace" (or "") is the working tree; any other
// revision is read from git, or, where git does not hold the file (a cached
// stage out), from the repository's cache through that revision's lock.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/pipeline/repro.h"

namespace rh::pipeline {

bool is_workspace(const std::string& rev);

// The file's bytes at rev (not_found when it is not there).
Result<std::string> file_at(const Project& p, const std::string& rev, const std::string& rel);

// The files under the folder `rel` at rev, each from the repository root,
// sorted; empty when there is no such folder.
Result<std::vector<std::string>> files_under_at(const Project& p, const std::string& rev,
                                                const std::string& rel);

}  // namespace rh::pipeline

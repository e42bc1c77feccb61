// Keeping cached data out of git as DVC does: "/name" in the .gitignore of
// the folder holding it (written atomically; a line already there is kept).
#pragma once

#include <string>

#include "roundhouse/util/error.h"

namespace rh::pipeline {

// `rel` from the repository root.
Status ignore_in_git(const std::string& root, const std::string& rel);

}  // namespace rh::pipeline

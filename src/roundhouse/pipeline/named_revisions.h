// The revisions `-a` (every branch) and `-T` (every tag) name, as DVC's
// brancher lists them for `metrics show`: the workspace first, then each
// commit once, in the order of the sorted ref names, shown as its names
// joined by ',' (two tags on one commit: "v1,v2"). Annotated tags stand for
// the commit they point at.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh::pipeline {

struct NamedRevision {
  std::string shown;  // "workspace", "main", "v1,v2"
  std::string rev;    // what git reads it as ("workspace" for the workspace)
};

Result<std::vector<NamedRevision>> named_revisions(const std::string& root, bool branches,
                                                   bool tags);

}  // namespace rh::pipeline

// Where the pipeline commands work: the repository's top (the nearest folder
// at or above the current one holding .git or .dvc, else the current one),
// the current folder from it, and the pipeline file found there (or in the
// nearest folder above it, up to the top).
#pragma once

#include <string>

#include "roundhouse/util/error.h"

namespace rh::cli {

struct PipelineHere {
  std::string root;  // the repository's top
  std::string dir;   // the current folder from it ("." at the top)
  std::string file;  // rh.yaml or dvc.yaml there, from the root; empty when none and not required
};

// not_found when there is no pipeline file and `require_file`.
Result<PipelineHere> pipeline_here(bool require_file = true);

}  // namespace rh::cli

// The repository the data commands (add, checkout, push, pull, fetch) work
// in: its top and layout (pipeline/repo_layout.h), its pipeline when it has
// one, and the stat cache, with paths the user gives (relative to the
// current folder) turned into paths from the top and back.
#pragma once

#include <memory>
#include <string>

#include "roundhouse/pipeline/repo_layout.h"
#include "roundhouse/pipeline/repro.h"

namespace rh::cli {

struct TrackHere {
  pipeline::RepoLayout layout;
  std::string dir;                             // the current folder from the top
  std::unique_ptr<pipeline::Project> project;  // null without a pipeline file
  std::shared_ptr<pipeline::HashCache> hashes;
  // A path the user gave, from the top (invalid_argument when outside it).
  Result<std::string> from_root(const std::string& path) const;
  // A path from the top as the user sees it from the current folder.
  std::string shown(const std::string& rel) const;
  // Writes back what the stat cache learnt.
  void save() const;
};

Result<TrackHere> track_here();

}  // namespace rh::cli

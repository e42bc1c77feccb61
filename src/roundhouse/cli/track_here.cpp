#include "roundhouse/cli/track_here.h"

#include <filesystem>

#include "roundhouse/cli/pipeline_here.h"
#include "roundhouse/pipeline/hash_cache.h"

namespace fs = std::filesystem;

namespace rh::cli {

Result<TrackHere> track_here() {
  RH_TRY_ASSIGN(PipelineHere here, pipeline_here(/*require_file=*/false));
  TrackHere h;
  h.dir = here.dir;
  if (!here.file.empty()) {
    RH_TRY_ASSIGN(pipeline::Project p, pipeline::open_project(here.root, here.file));
    h.project = std::make_unique<pipeline::Project>(std::move(p));
    h.layout = h.project->layout;
    h.hashes = h.project->hashes;
  } else {
    h.layout = pipeline::repo_layout(here.root);
    auto tmp = pipeline::make_tmp(h.layout);
    h.hashes = std::make_shared<pipeline::HashCache>(tmp ? *tmp + "/hashes.bin" : std::string());
  }
  return h;
}

Result<std::string> TrackHere::from_root(const std::string& path) const {
  fs::path abs = fs::path(path).is_absolute() ? fs::path(path) : fs::current_path() / path;
  std::string rel = abs.lexically_normal().lexically_relative(layout.root).generic_string();
  while (rel.size() > 1 && rel.back() == '/')
    rel.pop_back();
  if (rel.empty() || rel == ".." || rel.starts_with("../"))
    return make_error(ErrorCode::invalid_argument,
                      "'" + path + "' is outside the repository (" + layout.root + ")");
  return rel;
}

std::string TrackHere::shown(const std::string& rel) const {
  if (dir == ".")
    return rel;
  return fs::path(rel).lexically_relative(dir).generic_string();
}

void TrackHere::save() const {
  if (hashes)
    hashes->save();
}

}  // namespace rh::cli

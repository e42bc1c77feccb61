#include "roundhouse/cli/pipeline_here.h"

#include <filesystem>

#include "roundhouse/pipeline/pipeline_file.h"

namespace fs = std::filesystem;

namespace rh::cli {

Result<PipelineHere> pipeline_here(bool require_file) {
  PipelineHere h;
  fs::path cwd = fs::current_path();
  h.root = cwd.string();
  h.dir = ".";
  for (fs::path p = cwd;; p = p.parent_path()) {
    if (fs::exists(p / ".git") || fs::exists(p / ".dvc")) {
      std::string rel = fs::relative(cwd, p).generic_string();
      h.root = p.string();
      h.dir = rel.empty() ? "." : rel;
      break;
    }
    if (p == p.root_path() || p.empty())
      break;
  }
  // The current folder's pipeline file, else the nearest one above it up to
  // the repository's top.
  auto file = pipeline::find_pipeline_file(h.root, h.dir);
  for (fs::path d = fs::path(h.dir).parent_path();
       !file && file.error().code == ErrorCode::not_found && !d.empty(); d = d.parent_path()) {
    if (auto up = pipeline::find_pipeline_file(h.root, d.generic_string()))
      file = up;
  }
  if (!file && h.dir != "." && file.error().code == ErrorCode::not_found)
    if (auto top = pipeline::find_pipeline_file(h.root, "."))
      file = top;
  if (file)
    h.file = *file;
  else if (require_file || file.error().code != ErrorCode::not_found)
    return std::unexpected(file.error());
  return h;
}

}  // namespace rh::cli

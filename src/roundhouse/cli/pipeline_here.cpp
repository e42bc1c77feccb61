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
  auto file = pipeline::find_pipeline_file(h.root, h.dir);
  if (file)
    h.file = *file;
  else if (require_file || file.error().code != ErrorCode::not_found)
    return std::unexpected(file.error());
  return h;
}

}  // namespace rh::cli

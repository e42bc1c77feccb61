#include "roundhouse/pipeline/gitignore.h"

#include <filesystem>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

Status ignore_in_git(const std::string& root, const std::string& rel) {
  fs::path r(rel);
  std::string dir = r.has_parent_path() ? root + "/" + r.parent_path().string() : root;
  std::string line = "/" + r.filename().string();
  std::string path = dir + "/.gitignore";
  std::string text;
  if (path_exists(path)) {
    RH_TRY_ASSIGN(text, read_file(path));
    for (const auto& l : split(text, '\n'))
      if (l == line)
        return {};
  }
  if (!text.empty() && text.back() != '\n')
    text += "\n";
  return write_file_atomic(path, text + line + "\n");
}

}  // namespace rh::pipeline

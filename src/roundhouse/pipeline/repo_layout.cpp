#include "roundhouse/pipeline/repo_layout.h"

#include <algorithm>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::pipeline {

RepoLayout repo_layout(const std::string& root, bool dvc_file) {
  return RepoLayout{root, dvc_file || path_exists(root + "/.dvc")};
}

Result<std::string> make_tmp(const RepoLayout& l) {
  std::string dir = l.tmp();
  if (!path_exists(dir))
    RH_TRY(make_dirs(dir));
  if (l.dvc)
    return dir;
  // Written by an earlier version with fewer lines: the missing ones added.
  std::string ignore = l.root + "/.rh/.gitignore", text;
  if (path_exists(ignore)) {
    RH_TRY_ASSIGN(text, read_file(ignore));
  }
  std::string add;
  auto lines = split(text, '\n');
  for (const char* want : {"/cache", "/tmp", "/config.local"})
    if (std::find(lines.begin(), lines.end(), want) == lines.end())
      add += std::string(want) + "\n";
  if (!add.empty()) {
    if (!text.empty() && text.back() != '\n')
      text += "\n";
    RH_TRY(write_file_atomic(ignore, text + add));
  }
  return dir;
}

}  // namespace rh::pipeline

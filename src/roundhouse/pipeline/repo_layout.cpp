#include "roundhouse/pipeline/repo_layout.h"

#include <algorithm>
#include <filesystem>

#include "roundhouse/pipeline/ini_file.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::pipeline {

namespace fs = std::filesystem;

RepoLayout repo_layout(const std::string& root, bool dvc_file) {
  RepoLayout l{root, dvc_file || path_exists(root + "/.dvc"), ""};
  if (!l.dvc)
    return l;
  for (const char* name : {"/.dvc/config", "/.dvc/config.local"}) {
    auto sections = read_ini(root + name, name + 1);
    if (!sections)
      continue;
    std::string dir = ini_value(*sections, "cache", "dir");
    if (dir.empty())
      continue;
    fs::path p(dir);
    l.cache_dir = (p.is_absolute() ? p : fs::path(root) / ".dvc" / p).lexically_normal().string();
    while (l.cache_dir.size() > 1 && l.cache_dir.back() == '/')
      l.cache_dir.pop_back();
  }
  return l;
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

// The files under an add's arguments, in dataset-path order (byte order of
// whole paths, as git orders trees), a slice at a time: folders scanned on
// every core ahead of the walk with bounded memory; symlinks followed while
// they stay inside the folder being added, refused otherwise.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "roundhouse/data/context.h"
#include "roundhouse/data/stat_cache.h"
#include "roundhouse/util/error.h"

namespace rh::data {

// A file a walk found: its dataset path, its stat, and where its content is
// read: <dir>/<name> (the name being the last part of `rel`; `dir` is shared
// by a folder's files), or `target` (a symlink's target, a file given by
// itself).
struct Found {
  std::string rel;
  std::shared_ptr<const std::string> dir;
  std::string target;
  FileStat st;

  std::string source() const {
    if (!target.empty())
      return target;
    size_t slash = rel.rfind('/');
    return *dir + "/" + (slash == std::string::npos ? rel : rel.substr(slash + 1));
  }
};

class ArgWalk;

// One file per path: when two arguments give the same path, the later one's.
class Walker {
 public:
  // invalid_argument / not_found naming the argument that is not a file or folder.
  static Result<std::unique_ptr<Walker>> open(const std::vector<std::string>& paths,
                                              const AddOptions& opt);
  Walker();
  ~Walker();
  Walker(const Walker&) = delete;
  Walker& operator=(const Walker&) = delete;

  // Up to `max` more files into `out`; none at the end.
  Status next(std::vector<Found>& out, size_t max);

 private:
  Status advance(size_t i);
  std::vector<std::unique_ptr<ArgWalk>> m_args;
  std::vector<std::optional<Found>> m_heads;
};

// "prefix/rel" with the prefix's leading and trailing slashes dropped.
std::string join_path(const std::string& prefix, const std::string& rel);

}  // namespace rh::data

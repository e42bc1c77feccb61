#include "roundhouse/pipeline/file_at.h"

#include <algorithm>
#include <filesystem>

#include "roundhouse/env/process.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::pipeline {

namespace fs = std::filesystem;

namespace {

// What rev's lock records for the stage out at `rel` (nullopt: none).
std::optional<LockedPath> locked_out_at(const Project& p, const std::string& rev,
                                        const std::string& rel) {
  auto lock = run_capture({"git", "show", rev + ":./" + p.lock_path}, p.root, 30000);
  if (!lock || lock->exit_code != 0)
    return std::nullopt;
  auto l = parse_lock(rev + ":" + p.lock_path, lock->out);
  if (!l)
    return std::nullopt;
  for (const auto& s : p.dag.stages) {
    const StageLock* e = l->find(s.name);
    if (!e)
      continue;
    for (const auto& o : s.outs) {
      if (o.rel != rel)
        continue;
      for (const auto& lo : e->outs)
        if (lo.path == o.path && lo.md5.size() > 2)
          return lo;
    }
  }
  return std::nullopt;
}

}  // namespace

bool is_workspace(const std::string& rev) {
  return rev.empty() || rev == "workspace";
}

Result<std::string> file_at(const Project& p, const std::string& rev, const std::string& rel) {
  if (is_workspace(rev))
    return read_file(p.root + "/" + rel);
  auto git = run_capture({"git", "show", rev + ":./" + rel}, p.root, 30000);
  if (git && git->exit_code == 0)
    return git->out;
  if (auto lo = locked_out_at(p, rev, rel); lo && !lo->md5.ends_with(".dir"))
    return read_file(object_path(p.layout.cache(), lo->md5));
  // A file inside a cached folder out.
  for (std::string dir = fs::path(rel).parent_path().generic_string(); !dir.empty();
       dir = fs::path(dir).parent_path().generic_string()) {
    auto lo = locked_out_at(p, rev, dir);
    if (!lo || !lo->md5.ends_with(".dir"))
      continue;
    RH_TRY_ASSIGN(auto listing, read_listing(p.layout.cache(), lo->md5));
    for (const auto& f : listing)
      if (dir + "/" + f.relpath == rel)
        return read_file(object_path(p.layout.cache(), f.md5));
  }
  return make_error(ErrorCode::not_found, rel + " is not at " + rev);
}

Result<std::vector<std::string>> files_under_at(const Project& p, const std::string& rev,
                                                const std::string& rel) {
  std::vector<std::string> out;
  if (is_workspace(rev)) {
    std::error_code ec;
    std::string top = p.root + "/" + rel;
    if (!fs::is_directory(top, ec))
      return out;
    for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::end(it);
         it.increment(ec))
      if (it->is_regular_file(ec))
        out.push_back(rel + "/" + fs::relative(it->path(), top).generic_string());
  } else if (auto lo = locked_out_at(p, rev, rel); lo && lo->md5.ends_with(".dir")) {
    RH_TRY_ASSIGN(auto listing, read_listing(p.layout.cache(), lo->md5));
    for (const auto& f : listing)
      out.push_back(rel + "/" + f.relpath);
  } else {
    auto git = run_capture({"git", "ls-tree", "-r", "-z", "--name-only", rev, "--", rel + "/"},
                           p.root, 30000);
    if (git && git->exit_code == 0)
      for (const auto& name : split(git->out, '\0'))
        if (!name.empty())
          out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace rh::pipeline

#include "roundhouse/pipeline/add_data.h"

#include <filesystem>

#include "roundhouse/env/process.h"
#include "roundhouse/pipeline/dag.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/pipeline/gitignore.h"
#include "roundhouse/pipeline/repro.h"
#include "roundhouse/pipeline/tracked_file.h"
#include "roundhouse/util/fs.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

std::unexpected<Error> refuse(const std::string& rel, const std::string& why) {
  return make_error(ErrorCode::invalid_argument, "cannot add '" + rel + "': " + why);
}

}  // namespace

Result<Added> add_data(const RepoLayout& l, const Project* project, HashCache* hashes,
                       const std::string& rel) {
  if (rel.empty() || rel == "." || rel.starts_with("../") || rel == ".." || rel.starts_with("/"))
    return refuse(rel, "it is not inside the repository (" + l.root + ")");
  std::string top = rel.substr(0, rel.find('/'));
  if (top == ".git" || top == ".dvc" || top == ".rh")
    return refuse(rel, "it is inside " + top + "/");
  if (rel.ends_with(".dvc") || rel.ends_with(".rh"))
    return refuse(rel, "it is a tracking file itself");
  std::string abs = l.root + "/" + rel;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(abs, ec)))
    return make_error(ErrorCode::not_found, "cannot add '" + rel + "': it does not exist");
  if (project) {
    for (const auto& s : project->dag.stages)
      for (const auto& o : s.outs)
        if (path_within(o.rel, rel) || path_within(rel, o.rel))
          return refuse(rel, "it overlaps out '" + o.path + "' of stage '" + s.name + "' in " +
                                 project->file.path);
  }
  std::string file;
  for (const char* suffix : {".dvc", ".rh"})
    if (file.empty() && path_exists(abs + suffix))
      file = rel + suffix;
  if (file.empty())
    file = rel + l.tracked_suffix();
  RH_TRY_ASSIGN(auto others, find_tracked_files(l.root));
  for (const auto& f : others) {
    if (f == file)
      continue;
    RH_TRY_ASSIGN(TrackedFile t, read_tracked_file(l.root, f));
    for (const auto& o : t.outs) {
      std::string r = t.rel(o);
      if (path_within(r, rel) || path_within(rel, r))
        return refuse(rel, "it overlaps '" + r + "', tracked by " + f);
    }
  }
  if (path_exists(l.root + "/.git")) {
    auto git = run_capture({"git", "ls-files", "-z", "--", rel}, l.root, 60000);
    if (git && git->exit_code == 0 && !git->out.empty())
      return refuse(rel, "git already tracks it (git rm -r --cached '" + rel +
                             "' first, then commit, to move it from git to the cache)");
  }
  RH_TRY_ASSIGN(ContentHash h, hash_into_cache(abs, l.cache(), hashes));
  std::string dir = fs::path(rel).parent_path().generic_string();
  TrackedFile t;
  t.file = file;
  t.wdir = dir.empty() ? "." : dir;
  if (path_exists(l.root + "/" + file)) {
    RH_TRY_ASSIGN(t, read_tracked_file(l.root, file));
  }
  // The path as the file names it: relative to its wdir.
  std::string wdir_abs = l.root + (t.wdir == "." ? "" : "/" + t.wdir);
  std::string shown = fs::path(abs).lexically_relative(wdir_abs).generic_string();
  LockedPath lp = locked_path(shown, h);
  Added a{file, lp, true};
  for (const auto& o : t.outs)
    if (o.path == shown)
      a.changed = o.md5 != lp.md5;
  RH_TRY(write_file_atomic(l.root + "/" + file, tracked_file_text(t, lp)));
  RH_TRY(ignore_in_git(l.root, rel));
  return a;
}

}  // namespace rh::pipeline

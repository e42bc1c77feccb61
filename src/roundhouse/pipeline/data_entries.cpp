#include "roundhouse/pipeline/data_entries.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "roundhouse/env/process.h"
#include "roundhouse/pipeline/repro.h"
#include "roundhouse/pipeline/tracked_file.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

void add_tracked(const TrackedFile& t, std::vector<DataEntry>& out) {
  for (size_t i = 0; i < t.outs.size(); ++i)
    if (t.cached[i])
      out.push_back(DataEntry{t.rel(t.outs[i]), t.outs[i], false, true, t.file});
}

std::string strip_tracked_suffix(const std::string& f) {
  if (f.ends_with(".dvc"))
    return f.substr(0, f.size() - 4);
  if (f.ends_with(".rh"))
    return f.substr(0, f.size() - 3);
  return f;
}

}  // namespace

std::vector<DataEntry> uncached_outs(const Stage& s, const StageLock& e) {
  std::vector<DataEntry> out;
  for (const auto& o : s.outs) {
    if (o.cache)
      continue;
    for (const auto& lo : e.outs)
      if (lo.path == o.path)
        out.push_back(DataEntry{o.rel, lo, false, true, "stage '" + s.name + "'", "", true});
  }
  return out;
}

Result<std::vector<DataEntry>> workspace_data(const RepoLayout& l, const Project* project,
                                              const std::vector<std::string>& targets) {
  std::vector<DataEntry> out;
  std::set<std::string> wanted_stages, wanted_files, unknown(targets.begin(), targets.end());
  if (project) {
    for (const auto& s : project->dag.stages)
      for (const auto& t : targets)
        if (t == s.name || t == s.group) {
          wanted_stages.insert(s.name);
          unknown.erase(t);
        }
  }
  RH_TRY_ASSIGN(auto files, find_tracked_files(l.root));
  for (const auto& f : files)
    for (const auto& t : targets) {
      std::string n = fs::path(t).lexically_normal().generic_string();
      if (n == f || n == strip_tracked_suffix(f)) {
        wanted_files.insert(f);
        unknown.erase(t);
      }
    }
  if (!unknown.empty())
    return make_error(ErrorCode::not_found,
                      "not a stage or a tracked data file: " +
                          join(std::vector<std::string>(unknown.begin(), unknown.end()), ", "));
  bool all = targets.empty();
  if (project) {
    for (const auto& s : project->dag.stages) {
      if (!all && !wanted_stages.count(s.name))
        continue;
      const StageLock* e = project->lock.find(s.name);
      if (!e)
        continue;
      for (const auto& o : s.outs) {
        if (!o.cache)
          continue;
        for (const auto& lo : e->outs)
          if (lo.path == o.path)
            out.push_back(
                DataEntry{o.rel, lo, o.persist, o.push, "stage '" + s.name + "'", "", true});
      }
    }
  }
  for (const auto& f : files) {
    if (!all && !wanted_files.count(f))
      continue;
    RH_TRY_ASSIGN(TrackedFile t, read_tracked_file(l.root, f));
    add_tracked(t, out);
  }
  return out;
}

Result<std::vector<DataEntry>> revision_data(const RepoLayout& l, const std::string& lock_rel,
                                             const std::string& rev) {
  std::vector<DataEntry> out;
  auto git = [&](const std::vector<std::string>& args) -> Result<std::string> {
    std::vector<std::string> argv{"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    RH_TRY_ASSIGN(auto r, run_capture(argv, l.root, 60000));
    if (r.exit_code != 0)
      return make_error(ErrorCode::not_found, "git " + args[0] + " " + args.back() + " failed");
    return r.out;
  };
  if (!lock_rel.empty()) {
    auto text = git({"show", rev + ":" + lock_rel});
    if (text) {
      RH_TRY_ASSIGN(Lock lock, parse_lock(rev + ":" + lock_rel, *text));
      std::string dir = fs::path(lock_rel).parent_path().generic_string();
      for (const auto& s : lock.stages)
        for (const auto& lo : s.outs)
          out.push_back(DataEntry{dir.empty() ? lo.path : dir + "/" + lo.path, lo, false, true,
                                  "stage '" + s.name + "'", rev, true});
    }
  }
  RH_TRY_ASSIGN(std::string listing, git({"ls-tree", "-r", "-z", "--name-only", rev}));
  for (const auto& f : split(listing, '\0')) {
    if (!(f.ends_with(".dvc") && f.size() > 4 && fs::path(f).filename() != ".dvc") &&
        !(f.ends_with(".rh") && fs::path(f).filename() != ".rh"))
      continue;
    if (f.starts_with(".dvc/") || f.starts_with(".rh/"))
      continue;
    RH_TRY_ASSIGN(std::string text, git({"show", rev + ":" + f}));
    auto t = parse_tracked_file(f, text);
    if (!t)
      return make_error(t.error().code, "at " + rev + ": " + t.error().message);
    size_t from = out.size();
    add_tracked(*t, out);
    for (size_t i = from; i < out.size(); ++i)
      out[i].rev = rev;
  }
  return out;
}

}  // namespace rh::pipeline

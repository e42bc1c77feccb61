#include "roundhouse/pipeline/run_cache.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "roundhouse/hash/md5.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {

namespace {

std::string object(const std::string& cache_root, const std::string& md5) {
  return cache_root + "/files/md5/" + md5.substr(0, 2) + "/" + md5.substr(2);
}

}  // namespace

bool run_cacheable(const Stage& s) {
  if (s.outs.empty() || s.always_changed)
    return false;
  for (const auto& o : s.outs)
    if (!o.cache || o.persist)
      return false;
  return true;
}

std::string run_key(const StageLock& inputs) {
  StageLock k = inputs;
  k.name = "run";
  k.outs.clear();
  Lock l;
  l.stages.push_back(std::move(k));
  return md5_hex(lock_text(l));
}

Status store_run(const std::string& runs_dir, const std::string& key, const StageLock& entry) {
  RH_TRY(make_dirs(runs_dir));
  Lock l;
  StageLock e = entry;
  e.name = "run";
  l.stages.push_back(std::move(e));
  return write_file_atomic(runs_dir + "/" + key + ".lock", lock_text(l));
}

std::optional<StageLock> find_run(const std::string& runs_dir, const std::string& key) {
  auto l = read_lock(runs_dir + "/" + key + ".lock");
  if (!l || l->stages.size() != 1)
    return std::nullopt;
  return l->stages[0];
}

Result<bool> restore_outs(const std::string& root, const std::string& cache_root, const Stage& s,
                          const StageLock& entry) {
  struct Copy {
    std::string from, to;
  };
  std::vector<Copy> copies;
  std::vector<std::string> replace;
  for (const auto& o : s.outs) {
    const LockedPath* lp = nullptr;
    for (const auto& e : entry.outs)
      if (e.path == o.path)
        lp = &e;
    if (!lp || lp->md5.size() < 3)
      return false;
    std::string dst = root + "/" + o.rel;
    std::string obj = object(cache_root, lp->md5);
    if (!path_exists(obj))
      return false;
    replace.push_back(dst);
    if (!lp->nfiles) {
      copies.push_back({obj, dst});
      continue;
    }
    RH_TRY_ASSIGN(std::string listing, read_file(obj));
    auto files = nlohmann::json::parse(listing, nullptr, false);
    if (!files.is_array())
      return false;
    for (const auto& f : files) {
      if (!f.is_object() || !f.contains("md5") || !f.contains("relpath"))
        return false;
      std::string rel = f["relpath"].get<std::string>();
      if (rel.empty() || rel[0] == '/' || rel.find("..") != std::string::npos)
        return false;
      std::string from = object(cache_root, f["md5"].get<std::string>());
      if (!path_exists(from))
        return false;
      copies.push_back({from, dst + "/" + rel});
    }
  }
  for (const auto& r : replace)
    (void)remove_all(r);
  for (const auto& c : copies) {
    RH_TRY(make_dirs(dirname_of(c.to)));
    RH_TRY_ASSIGN(std::string bytes, read_file(c.from));
    RH_TRY(write_file_atomic(c.to, bytes));
    ::chmod(c.to.c_str(), 0644);
  }
  return true;
}

}  // namespace rh::pipeline

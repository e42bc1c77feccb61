#include "roundhouse/pipeline/run_cache.h"

#include <sys/stat.h>

#include "roundhouse/hash/md5.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {

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
  std::vector<std::pair<const Out*, const LockedPath*>> todo;
  for (const auto& o : s.outs) {
    const LockedPath* lp = nullptr;
    for (const auto& e : entry.outs)
      if (e.path == o.path)
        lp = &e;
    if (!lp || !in_cache(cache_root, *lp))
      return false;
    todo.emplace_back(&o, lp);
  }
  for (const auto& [o, lp] : todo)
    RH_TRY(checkout_entry(cache_root, *lp, root + "/" + o->rel, nullptr, false));
  return true;
}

}  // namespace rh::pipeline

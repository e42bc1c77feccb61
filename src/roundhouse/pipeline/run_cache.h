// The run cache: a stage's inputs (rendered command, deps' digests, params'
// values) -> the outs they produced, so reverting a param, deleting an out
// or deleting the lock brings the outs back from the cache without running
// anything. For stages whose outs are all cached and none persists (as DVC
// requires); entries live in .dvc/tmp/rh/runs/<key>.lock (one-stage lock
// files), the outs in DVC's cache (dvc_cache.h).
#pragma once

#include <optional>
#include <string>

#include "roundhouse/pipeline/lock.h"
#include "roundhouse/pipeline/pipeline_file.h"

namespace rh::pipeline {

// Whether the stage may use the run cache.
bool run_cacheable(const Stage& s);

// The key of a stage's inputs (its lock entry without outs).
std::string run_key(const StageLock& inputs);

Status store_run(const std::string& runs_dir, const std::string& key, const StageLock& entry);
std::optional<StageLock> find_run(const std::string& runs_dir, const std::string& key);

// Puts the entry's outs back from the cache: false (nothing written) when
// the cache lacks any of them.
Result<bool> restore_outs(const std::string& root, const std::string& cache_root, const Stage& s,
                          const StageLock& entry);

}  // namespace rh::pipeline

// A content cache as DVC 3 lays its local cache out (.dvc/cache, or
// Roundhouse's .rh/cache: repo_layout.h): each file's content under
// .dvc/cache/files/md5/<2 hex>/<30 hex>, a folder's listing (dvc_hash.h)
// under its "<md5>.dir" name; objects read-only, written once (a temporary
// file renamed; the file system synced once when a path is in). An out goes in while it is hashed:
// one read.
#pragma once

#include <string>

#include "roundhouse/pipeline/dvc_hash.h"

namespace rh::pipeline {

class HashCache;

// Where an object lives: <cache>/files/md5/<2 hex>/<rest>.
std::string object_path(const std::string& cache_root, const std::string& md5);

// Hashes `path` (a file or folder) as hash_path does and stores what the
// cache under `cache_root` (.dvc/cache) lacks; the digests go into `hashes`
// (the stat cache) too, as just-written outs.
Result<ContentHash> hash_into_cache(const std::string& path, const std::string& cache_root,
                                    HashCache* hashes);

}  // namespace rh::pipeline

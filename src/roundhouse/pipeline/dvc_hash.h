// Content hashes as DVC 3 records them in dvc.lock and .dvc files: a file's
// md5 (of its bytes) and size; a folder's md5 is that of its listing —
// Python's json.dumps(sort_keys=True) of [{"md5": ..., "relpath": ...}]
// sorted by relpath ('/'-separated, non-ASCII as \uXXXX) — with ".dir"
// appended, its size the sum of its files' and nfiles their count. Symbolic
// links to files count as the files they point to. Each file's SHA-256 comes
// from the same read (the blob store's name for it).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "roundhouse/hash/md5.h"
#include "roundhouse/util/error.h"

namespace rh::pipeline {

struct HashedFile {
  std::string relpath;  // inside the folder
  std::string md5, sha256;
  uint64_t size = 0;
};

struct ContentHash {
  std::string md5;  // "<hex>" for a file, "<hex>.dir" for a folder
  uint64_t size = 0;
  uint64_t nfiles = 0;  // folders only
  bool dir = false;
  std::vector<HashedFile> files;  // a folder's, sorted by relpath; a file: itself
};

class HashCache;

// not_found when the path does not exist. With a cache, a file whose stat
// is unchanged is not read again (hash_cache.h); `fresh`: what is read is
// remembered even when just modified (outs repro just wrote).
Result<ContentHash> hash_path(const std::string& path, HashCache* cache = nullptr,
                              bool fresh = false);

// The same walk with each regular file's digests from `digest_file` (its
// path and stat): what hash_path and the cache's hashing share. With
// `known`, a file it answers for by its stat is not given to digest_file.
using DigestFile = std::function<Result<FileDigests>(const std::string&, const struct stat&)>;
Result<ContentHash> hash_with(const std::string& path, const DigestFile& digest_file,
                              HashCache* known = nullptr);

// The listing a folder's md5 is taken of (exposed for tests).
std::string dir_listing(const std::vector<HashedFile>& sorted_files);

}  // namespace rh::pipeline

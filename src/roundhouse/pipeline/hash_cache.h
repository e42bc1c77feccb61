// The pipeline's stat cache: (device, inode, size, mtime) -> (md5, SHA-256),
// so `rh status` and a no-op `rh repro` cost a stat per unchanged file, not
// a read. One file (.dvc/tmp/rh/hashes.bin, or .rh/tmp/hashes.bin):
// "RHMD5C1\n", then 96-byte records — dev, ino (u64), size, mtime ns (i64),
// md5 (16 bytes), SHA-256 (32 bytes), 16 bytes zero — loaded whole, written
// back (temporary file + rename) when something new was learnt. A file
// modified less than 2 s before it was hashed is not remembered (its mtime
// may not show a change made in the same tick). A file that is not one is
// ignored: it is a cache.
#pragma once

#include <sys/stat.h>

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "roundhouse/hash/md5.h"

namespace rh::pipeline {

class HashCache {
 public:
  explicit HashCache(std::string path);  // empty: remembers nothing
  std::optional<FileDigests> lookup(const struct stat& st);
  void remember(const struct stat& st, const FileDigests& d);
  // Also when just modified: for outs repro hashed right after their stage
  // wrote them (nothing else writes them meanwhile).
  void remember_fresh(const struct stat& st, const FileDigests& d);
  void save();  // when anything was remembered; errors ignored

 private:
  struct Key {
    uint64_t dev, ino;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.dev * 1000003u ^ k.ino);
    }
  };
  struct Entry {
    int64_t size, mtime_ns;
    FileDigests d;
  };
  std::string m_path;
  std::mutex m_mu;
  std::unordered_map<Key, Entry, KeyHash> m_map;
  bool m_dirty = false;
};

// The file's digests, from the cache when its stat is unchanged.
Result<FileDigests> digests_of(const std::string& path, const struct stat& st, HashCache* cache,
                               bool fresh = false);

}  // namespace rh::pipeline

// The pipeline's stat cache: (device, inode, size, mtime) -> (md5, SHA-256),
// so `rh status` and a no-op `rh repro` cost a stat per unchanged file, not
// a read. One file (.dvc/tmp/rh/hashes.bin, or .rh/tmp/hashes.bin):
// "RHMD5C1\n", then 96-byte records — dev, ino (u64), size, mtime ns (i64),
// md5 (16 bytes), SHA-256 (32 bytes), 16 bytes zero — loaded whole into one
// flat table, written back (temporary file + rename) when something new
// was learnt. Lookups from many threads run side by side. A file
// modified less than 2 s before it was hashed is not remembered (its mtime
// may not show a change made in the same tick). A file that is not one is
// ignored: it is a cache.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

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
  // One record as the file holds it; a free slot has ino == 0 and dev == 0.
  struct Slot {
    uint64_t dev = 0, ino = 0;
    int64_t size = 0, mtime_ns = 0;
    unsigned char md5[16] = {}, sha256[32] = {};
  };
  // Open addressing, linear probing, a power-of-two size at most half full:
  // one allocation, loaded by copying records, nothing to free one by one.
  Slot* find(uint64_t dev, uint64_t ino);  // its slot, or the free one it would go in
  void put(const Slot& s);                 // under the unique lock
  std::string m_path;
  std::shared_mutex m_mu;
  std::vector<Slot> m_slots;
  size_t m_used = 0;
  bool m_dirty = false;
};

// The file's digests, from the cache when its stat is unchanged.
Result<FileDigests> digests_of(const std::string& path, const struct stat& st, HashCache* cache,
                               bool fresh = false);

}  // namespace rh::pipeline

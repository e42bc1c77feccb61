// The stat cache: (device, inode) -> (size, mtime, digest), so a file whose
// size and mtime are unchanged is never read and hashed again.
//
// One flat file (<data dir>/statcache.bin), sorted by (device, inode):
// "RHSTAT1\n", then 64-byte records — dev u64, ino u64, size i64, mtime in
// ns i64 (little-endian), the SHA-256 as 32 raw bytes. It is mapped, not
// read (lookups bisect the mapping; release() gives back the pages they
// touched, which stay in the page cache), and new entries are kept in memory
// only up to a bound: past it they go, sorted, into an unnamed run file. save()
// merges the file, the runs and what is left in memory into a new file
// (temporary file + rename) a buffer at a time. So the memory a stat cache
// needs does not grow with the number of files. A file that is not one (wrong
// magic or length) is ignored, and two processes saving at once lose some
// entries to the last rename: it is a cache, a lost entry only costs hashing
// that file again. The Python SDK reads and writes the same file
// (python/roundhouse/dataset.py).
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "roundhouse/hash/digest.h"

namespace rh::data {

// What the stat cache and a dataset row need of a file's stat.
struct FileStat {
  uint64_t dev = 0, ino = 0;
  int64_t size = 0, mtime_ns = 0;
  uint32_t mode = 0;
  static FileStat of(const struct stat& st);
};

using Sha256Bytes = Digest::Bytes;

class StatCache {
 public:
  // An empty path: a cache that remembers nothing.
  explicit StatCache(std::string path);
  ~StatCache();
  StatCache(const StatCache&) = delete;
  StatCache& operator=(const StatCache&) = delete;
  // The SHA-256 known for this file, or false when unknown or changed.
  bool lookup(const FileStat& st, Sha256Bytes& sha) const;
  // The digest ("sha256:<hex>"), or empty when unknown or changed.
  std::string lookup(const FileStat& st) const;
  // Thread-safe; kept until save().
  void remember(const FileStat& st, const std::string& digest);
  // Gives back the mapped pages lookups touched so far (not thread-safe
  // with lookups).
  void release();
  // Writes the cache with what was remembered; errors are ignored (a cache).
  void save();
  size_t size() const { return m_count; }

  // New entries held in memory before they go to a run file.
  static constexpr size_t k_in_memory = 65536;

 private:
  struct Entry {
    uint64_t dev = 0, ino = 0;
    int64_t size = 0, mtime_ns = 0;
    Sha256Bytes sha{};
  };
  void spill_locked();

  std::string m_path;
  const Entry* m_base = nullptr;  // sorted by (dev, ino), one per file
  size_t m_count = 0;
  void* m_map = nullptr;
  size_t m_map_len = 0;
  std::vector<Entry> m_loaded;  // the base when it could not be mapped as it is
  std::mutex m_mu;
  std::vector<Entry> m_new;
  std::vector<int> m_runs;  // sorted runs of earlier new entries, oldest first
};

}  // namespace rh::data

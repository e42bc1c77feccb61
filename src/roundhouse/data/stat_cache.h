// The stat cache: (device, inode) -> (size, mtime, digest), so a file whose
// size and mtime are unchanged is never read and hashed again.
//
// One flat file (<data dir>/statcache.bin), read whole into a vector sorted
// by (device, inode) and rewritten whole, sorted, (temporary file + rename) when new entries were
// learned: "RHSTAT1\n", then 64-byte records — dev u64, ino u64, size i64, mtime in ns i64
// (little-endian), the SHA-256 as 32 raw bytes. 50,000 entries load in a few milliseconds and save
// in about as long (SQLite took 30 ms and 110 ms). A file that is not one (wrong magic or length)
// is ignored, and two processes saving at once lose some entries to the last rename: it is a cache,
// a lost entry only costs hashing that file again. The Python SDK reads and writes the same file
// (python/roundhouse/dataset.py).
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace rh::data {

// What the stat cache and a dataset row need of a file's stat.
struct FileStat {
  uint64_t dev = 0, ino = 0;
  int64_t size = 0, mtime_ns = 0;
  uint32_t mode = 0;
  static FileStat of(const struct stat& st);
};

using Sha256Bytes = std::array<unsigned char, 32>;

class StatCache {
 public:
  // An empty path: a cache that remembers nothing.
  explicit StatCache(std::string path);
  // The SHA-256 known for this file, or false when unknown or changed.
  bool lookup(const FileStat& st, Sha256Bytes& sha) const;
  // The digest ("sha256:<hex>"), or empty when unknown or changed.
  std::string lookup(const FileStat& st) const;
  // Thread-safe; kept until save().
  void remember(const FileStat& st, const std::string& digest);
  // Writes the cache with what was remembered; errors are ignored (a cache).
  void save();
  size_t size() const { return m_entries.size(); }

 private:
  struct Entry {
    uint64_t dev = 0, ino = 0;
    int64_t size = 0, mtime_ns = 0;
    Sha256Bytes sha{};
  };
  std::string m_path;
  std::vector<Entry> m_entries;  // sorted by (dev, ino), one per file
  std::mutex m_mu;
  std::vector<Entry> m_new;
};

}  // namespace rh::data

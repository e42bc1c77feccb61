// The stat cache: (device, inode) -> (size, mtime, digest), so a file whose
// size and mtime are unchanged is never read and hashed again.
//
// One flat file (<data dir>/statcache.bin), read whole into a hash map and
// rewritten whole (temporary file + rename) when new entries were learned:
// "RHSTAT1\n", then 64-byte records — dev u64, ino u64, size i64, mtime in
// ns i64 (little-endian), the SHA-256 as 32 raw bytes. 50,000 entries load in
// a few milliseconds and save in about as long (SQLite took 30 ms and
// 110 ms). A file that is not one (wrong magic or length) is ignored, and
// two processes saving at once lose some entries to the last rename: it is a
// cache, a lost entry only costs hashing that file again. The Python SDK
// reads and writes the same file (python/roundhouse/dataset.py).
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace rh::data {

class StatCache {
 public:
  // An empty path: a cache that remembers nothing.
  explicit StatCache(std::string path);
  // The digest ("sha256:<hex>") for this stat, or empty when unknown or changed.
  std::string lookup(const struct stat& st) const;
  // Thread-safe; kept until save().
  void remember(const struct stat& st, const std::string& digest);
  // Writes the cache with what was remembered; errors are ignored (a cache).
  void save();
  size_t size() const { return m_map.size(); }

 private:
  struct Key {
    uint64_t dev = 0, ino = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept {
      return std::hash<uint64_t>()(k.ino * 0x9E3779B97F4A7C15ull ^ k.dev);
    }
  };
  struct Entry {
    int64_t size = 0, mtime_ns = 0;
    std::array<unsigned char, 32> sha{};
  };
  std::string m_path;
  std::unordered_map<Key, Entry, KeyHash> m_map;
  std::mutex m_mu;
  std::vector<std::pair<Key, Entry>> m_new;
};

}  // namespace rh::data

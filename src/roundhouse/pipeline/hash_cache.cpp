#include "roundhouse/pipeline/hash_cache.h"

#include <cstring>
#include <ctime>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::pipeline {

namespace {

constexpr char k_magic[] = "RHMD5C1\n";
constexpr size_t k_record = 96;

int64_t mtime_ns(const struct stat& st) {
  return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

void put_u64(std::string& out, uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), 8);
}

}  // namespace

HashCache::HashCache(std::string path) : m_path(std::move(path)) {
  if (m_path.empty())
    return;
  auto text = read_file(m_path);
  if (!text || text->size() < 8 || text->compare(0, 8, k_magic) != 0 ||
      (text->size() - 8) % k_record != 0)
    return;
  for (size_t at = 8; at < text->size(); at += k_record) {
    const char* r = text->data() + at;
    Key k{};
    Entry e{};
    std::memcpy(&k.dev, r, 8);
    std::memcpy(&k.ino, r + 8, 8);
    std::memcpy(&e.size, r + 16, 8);
    std::memcpy(&e.mtime_ns, r + 24, 8);
    e.d.md5 = to_hex(reinterpret_cast<const unsigned char*>(r + 32), 16);
    e.d.sha256 = "sha256:" + to_hex(reinterpret_cast<const unsigned char*>(r + 48), 32);
    e.d.size = uint64_t(e.size);
    m_map[k] = std::move(e);
  }
}

std::optional<FileDigests> HashCache::lookup(const struct stat& st) {
  if (m_path.empty())
    return std::nullopt;
  std::lock_guard lk(m_mu);
  auto it = m_map.find(Key{uint64_t(st.st_dev), uint64_t(st.st_ino)});
  if (it == m_map.end() || it->second.size != st.st_size || it->second.mtime_ns != mtime_ns(st))
    return std::nullopt;
  return it->second.d;
}

void HashCache::remember(const struct stat& st, const FileDigests& d) {
  if (int64_t(::time(nullptr)) - st.st_mtim.tv_sec < 2)
    return;
  remember_fresh(st, d);
}

void HashCache::remember_fresh(const struct stat& st, const FileDigests& d) {
  if (m_path.empty())
    return;
  std::lock_guard lk(m_mu);
  m_map[Key{uint64_t(st.st_dev), uint64_t(st.st_ino)}] = Entry{st.st_size, mtime_ns(st), d};
  m_dirty = true;
}

void HashCache::save() {
  std::lock_guard lk(m_mu);
  if (m_path.empty() || !m_dirty)
    return;
  std::string out(k_magic, 8);
  out.reserve(8 + m_map.size() * k_record);
  for (const auto& [k, e] : m_map) {
    unsigned char md5[16] = {}, sha[32] = {};
    if (!from_hex(e.d.md5, md5, 16) || e.d.sha256.size() != 71 ||
        !from_hex(std::string_view(e.d.sha256).substr(7), sha, 32))
      continue;
    put_u64(out, k.dev);
    put_u64(out, k.ino);
    put_u64(out, uint64_t(e.size));
    put_u64(out, uint64_t(e.mtime_ns));
    out.append(reinterpret_cast<const char*>(md5), 16);
    out.append(reinterpret_cast<const char*>(sha), 32);
    out.append(16, '\0');
  }
  if (write_file_atomic(m_path, out))
    m_dirty = false;
}

Result<FileDigests> digests_of(const std::string& path, const struct stat& st, HashCache* cache,
                               bool fresh) {
  if (cache) {
    if (auto d = cache->lookup(st))
      return *d;
  }
  RH_TRY_ASSIGN(FileDigests d, md5_sha256_file(path));
  if (cache && fresh)
    cache->remember_fresh(st, d);
  else if (cache)
    cache->remember(st, d);
  return d;
}

}  // namespace rh::pipeline

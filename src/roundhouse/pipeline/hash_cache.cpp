#include "roundhouse/pipeline/hash_cache.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>

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
  size_t n = (text->size() - 8) / k_record, size = 1024;
  while (size < 2 * n + 2)
    size *= 2;
  m_slots.resize(size);
  for (size_t at = 8; at < text->size(); at += k_record) {
    const char* r = text->data() + at;
    Slot s;
    std::memcpy(&s.dev, r, 8);
    std::memcpy(&s.ino, r + 8, 8);
    std::memcpy(&s.size, r + 16, 8);
    std::memcpy(&s.mtime_ns, r + 24, 8);
    std::memcpy(s.md5, r + 32, 16);
    std::memcpy(s.sha256, r + 48, 32);
    if (s.dev || s.ino)
      put(s);
  }
}

HashCache::Slot* HashCache::find(uint64_t dev, uint64_t ino) {
  size_t mask = m_slots.size() - 1;
  for (size_t i = size_t((ino ^ (dev << 40)) * 0x9E3779B97F4A7C15ull >> 20) & mask;;
       i = (i + 1) & mask) {
    Slot& s = m_slots[i];
    if ((s.dev == dev && s.ino == ino) || (!s.dev && !s.ino))
      return &s;
  }
}

void HashCache::put(const Slot& s) {
  if (m_slots.empty() || 2 * (m_used + 1) > m_slots.size()) {
    std::vector<Slot> old = std::move(m_slots);
    m_slots.assign(std::max<size_t>(1024, old.size() * 2), Slot{});
    m_used = 0;
    for (const auto& o : old)
      if (o.dev || o.ino)
        put(o);
  }
  Slot* at = find(s.dev, s.ino);
  if (!at->dev && !at->ino)
    ++m_used;
  *at = s;
}

std::optional<FileDigests> HashCache::lookup(const struct stat& st) {
  if (m_path.empty())
    return std::nullopt;
  std::shared_lock lk(m_mu);  // lookups from many threads at once
  if (m_slots.empty())
    return std::nullopt;
  const Slot* s = find(uint64_t(st.st_dev), uint64_t(st.st_ino));
  if ((!s->dev && !s->ino) || s->size != st.st_size || s->mtime_ns != mtime_ns(st))
    return std::nullopt;
  FileDigests d;
  d.md5 = to_hex(s->md5, 16);
  d.sha256.reserve(71);
  d.sha256 = "sha256:";
  d.sha256 += to_hex(s->sha256, 32);
  d.size = uint64_t(s->size);
  return d;
}

void HashCache::remember(const struct stat& st, const FileDigests& d) {
  if (int64_t(::time(nullptr)) - st.st_mtim.tv_sec < 2)
    return;
  remember_fresh(st, d);
}

void HashCache::remember_fresh(const struct stat& st, const FileDigests& d) {
  if (m_path.empty())
    return;
  Slot s;
  s.dev = uint64_t(st.st_dev);
  s.ino = uint64_t(st.st_ino);
  s.size = st.st_size;
  s.mtime_ns = mtime_ns(st);
  if (!from_hex(d.md5, s.md5, 16) || d.sha256.size() != 71 ||
      !from_hex(std::string_view(d.sha256).substr(7), s.sha256, 32) || (!s.dev && !s.ino))
    return;
  std::unique_lock lk(m_mu);
  put(s);
  m_dirty = true;
}

void HashCache::save() {
  std::unique_lock lk(m_mu);
  if (m_path.empty() || !m_dirty)
    return;
  std::string out(k_magic, 8);
  out.reserve(8 + m_used * k_record);
  for (const auto& s : m_slots) {
    if (!s.dev && !s.ino)
      continue;
    put_u64(out, s.dev);
    put_u64(out, s.ino);
    put_u64(out, uint64_t(s.size));
    put_u64(out, uint64_t(s.mtime_ns));
    out.append(reinterpret_cast<const char*>(s.md5), 16);
    out.append(reinterpret_cast<const char*>(s.sha256), 32);
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

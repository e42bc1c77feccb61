#include "roundhouse/data/stat_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::data {

namespace {

constexpr char k_magic[] = "RHSTAT1\n";
constexpr size_t k_magic_len = 8;
constexpr size_t k_record = 64;
constexpr size_t k_max_entries = 4'000'000;  // beyond this the cache starts over

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

template <class T>
void put_le(unsigned char* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    p[i] = static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i));
}

template <class T>
T get_le(const unsigned char* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return static_cast<T>(v);
}

bool sha_from_digest(const std::string& digest, std::array<unsigned char, 32>& out) {
  if (digest.size() != 71 || !digest.starts_with("sha256:"))
    return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nib(digest[7 + 2 * i]), lo = nib(digest[8 + 2 * i]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

StatCache::StatCache(std::string path) : m_path(std::move(path)) {
  if (m_path.empty())
    return;
  auto text = read_file(m_path);
  if (!text || text->size() < k_magic_len || text->compare(0, k_magic_len, k_magic) != 0 ||
      (text->size() - k_magic_len) % k_record != 0)
    return;  // absent, or not a stat cache: start empty
  const auto* p = reinterpret_cast<const unsigned char*>(text->data()) + k_magic_len;
  size_t n = (text->size() - k_magic_len) / k_record;
  m_map.reserve(n);
  for (size_t i = 0; i < n; ++i, p += k_record) {
    Entry e;
    e.size = get_le<int64_t>(p + 16);
    e.mtime_ns = get_le<int64_t>(p + 24);
    std::memcpy(e.sha.data(), p + 32, 32);
    m_map[Key{get_le<uint64_t>(p), get_le<uint64_t>(p + 8)}] = e;
  }
}

std::string StatCache::lookup(const struct stat& st) const {
  auto it = m_map.find(Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
  if (it == m_map.end() || it->second.size != st.st_size || it->second.mtime_ns != mtime_ns(st))
    return {};
  return "sha256:" + to_hex(it->second.sha.data(), 32);
}

void StatCache::remember(const struct stat& st, const std::string& digest) {
  Entry e;
  if (!sha_from_digest(digest, e.sha))
    return;
  e.size = st.st_size;
  e.mtime_ns = mtime_ns(st);
  std::lock_guard lk(m_mu);
  m_new.emplace_back(Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)}, e);
}

void StatCache::save() {
  if (m_path.empty() || m_new.empty())
    return;
  if (m_map.size() + m_new.size() > k_max_entries)
    m_map.clear();
  for (auto& [k, e] : m_new)
    m_map[k] = e;
  m_new.clear();
  std::string out(k_magic_len + m_map.size() * k_record, '\0');
  std::memcpy(out.data(), k_magic, k_magic_len);
  auto* p = reinterpret_cast<unsigned char*>(out.data()) + k_magic_len;
  for (const auto& [k, e] : m_map) {
    put_le(p, k.dev);
    put_le(p + 8, k.ino);
    put_le(p + 16, e.size);
    put_le(p + 24, e.mtime_ns);
    std::memcpy(p + 32, e.sha.data(), 32);
    p += k_record;
  }
  // No fsync: after a crash a lost or empty cache only costs hashing again.
  std::string tmp = m_path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::write(fd, out.data() + off, out.size() - off);
    if (n <= 0)
      break;
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (off != out.size() || std::rename(tmp.c_str(), m_path.c_str()) != 0)
    ::unlink(tmp.c_str());
}

}  // namespace rh::data

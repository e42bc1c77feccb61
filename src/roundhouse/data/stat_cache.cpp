#include "roundhouse/data/stat_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::data {

namespace {

constexpr char k_magic[] = "RHSTAT1\n";
constexpr size_t k_magic_len = 8;
constexpr size_t k_record = 64;
constexpr size_t k_max_entries = 4'000'000;  // beyond this the cache starts over

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

bool before(uint64_t dev_a, uint64_t ino_a, uint64_t dev_b, uint64_t ino_b) {
  return dev_a != dev_b ? dev_a < dev_b : ino_a < ino_b;
}

}  // namespace

FileStat FileStat::of(const struct stat& st) {
  return FileStat{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                  static_cast<int64_t>(st.st_size),
                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                  static_cast<uint32_t>(st.st_mode)};
}

StatCache::StatCache(std::string path) : m_path(std::move(path)) {
  if (m_path.empty())
    return;
  // Read straight into the entries: a record is an Entry's bytes on a
  // little-endian machine; elsewhere each field is decoded in place.
  static_assert(sizeof(Entry) == k_record);
  int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  struct stat st;
  char magic[k_magic_len];
  bool ok = ::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(k_magic_len) &&
            (st.st_size - static_cast<off_t>(k_magic_len)) % static_cast<off_t>(k_record) == 0 &&
            read_full(fd, magic, k_magic_len) == static_cast<ssize_t>(k_magic_len) &&
            std::memcmp(magic, k_magic, k_magic_len) == 0;
  size_t n = ok ? (static_cast<size_t>(st.st_size) - k_magic_len) / k_record : 0;
  if (ok)
    m_entries.resize(n);
  auto* buf = reinterpret_cast<unsigned char*>(m_entries.data());
  ok = ok && read_full(fd, buf, n * k_record) == static_cast<ssize_t>(n * k_record);
  ::close(fd);
  if (!ok) {  // absent, torn or not a stat cache: start empty
    m_entries.clear();
    return;
  }
  bool sorted = true;
  for (size_t i = 0; i < n; ++i) {
    Entry& e = m_entries[i];
    if constexpr (std::endian::native != std::endian::little) {
      const unsigned char* p = buf + i * k_record;
      e.dev = get_le<uint64_t>(p);
      e.ino = get_le<uint64_t>(p + 8);
      e.size = get_le<int64_t>(p + 16);
      e.mtime_ns = get_le<int64_t>(p + 24);
    }
    if (i > 0 && !before(m_entries[i - 1].dev, m_entries[i - 1].ino, e.dev, e.ino))
      sorted = false;
  }
  if (!sorted) {  // written by an older writer, or edited: sort, keeping one per file
    std::stable_sort(m_entries.begin(), m_entries.end(), [](const Entry& a, const Entry& b) {
      return before(a.dev, a.ino, b.dev, b.ino);
    });
    auto same = [](const Entry& a, const Entry& b) { return a.dev == b.dev && a.ino == b.ino; };
    m_entries.erase(std::unique(m_entries.begin(), m_entries.end(), same), m_entries.end());
  }
}

bool StatCache::lookup(const FileStat& st, Sha256Bytes& sha) const {
  auto it = std::lower_bound(
      m_entries.begin(), m_entries.end(), st,
      [](const Entry& e, const FileStat& k) { return before(e.dev, e.ino, k.dev, k.ino); });
  if (it == m_entries.end() || it->dev != st.dev || it->ino != st.ino || it->size != st.size ||
      it->mtime_ns != st.mtime_ns)
    return false;
  sha = it->sha;
  return true;
}

std::string StatCache::lookup(const FileStat& st) const {
  Sha256Bytes sha;
  return lookup(st, sha) ? "sha256:" + to_hex(sha.data(), sha.size()) : std::string();
}

void StatCache::remember(const FileStat& st, const std::string& digest) {
  Entry e{st.dev, st.ino, st.size, st.mtime_ns, {}};
  if (digest.size() != 71 || !digest.starts_with("sha256:") ||
      !from_hex(std::string_view(digest).substr(7), e.sha.data(), e.sha.size()))
    return;
  std::lock_guard lk(m_mu);
  m_new.push_back(e);
}

void StatCache::save() {
  if (m_path.empty() || m_new.empty())
    return;
  if (m_entries.size() + m_new.size() > k_max_entries)
    m_entries.clear();
  // The newest entry for a file wins: new ones first, then a stable merge keeps the first.
  auto less = [](const Entry& a, const Entry& b) { return before(a.dev, a.ino, b.dev, b.ino); };
  std::reverse(m_new.begin(), m_new.end());
  std::stable_sort(m_new.begin(), m_new.end(), less);
  std::vector<Entry> merged;
  merged.reserve(m_entries.size() + m_new.size());
  std::merge(m_new.begin(), m_new.end(), m_entries.begin(), m_entries.end(),
             std::back_inserter(merged), less);
  auto same = [](const Entry& a, const Entry& b) { return a.dev == b.dev && a.ino == b.ino; };
  merged.erase(std::unique(merged.begin(), merged.end(), same), merged.end());
  m_entries = std::move(merged);
  m_new.clear();
  std::string out(k_magic_len + m_entries.size() * k_record, '\0');
  std::memcpy(out.data(), k_magic, k_magic_len);
  auto* p = reinterpret_cast<unsigned char*>(out.data()) + k_magic_len;
  for (const auto& e : m_entries) {
    put_le(p, e.dev);
    put_le(p + 8, e.ino);
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
  bool written = write_all(fd, out.data(), out.size());
  ::close(fd);
  if (!written || std::rename(tmp.c_str(), m_path.c_str()) != 0)
    ::unlink(tmp.c_str());
}

}  // namespace rh::data

#include "roundhouse/data/stat_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
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

namespace {

// Newest first within a batch of new entries, then sorted; one per file.
template <class E>
void sort_newest_first(std::vector<E>& v) {
  auto less = [](const E& a, const E& b) { return before(a.dev, a.ino, b.dev, b.ino); };
  std::reverse(v.begin(), v.end());
  std::stable_sort(v.begin(), v.end(), less);
  auto same = [](const E& a, const E& b) { return a.dev == b.dev && a.ino == b.ino; };
  v.erase(std::unique(v.begin(), v.end(), same), v.end());
}

// Entries as the file's little-endian records.
template <class E>
std::string records_of(const std::vector<E>& v) {
  std::string out(v.size() * k_record, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  for (const auto& e : v) {
    put_le(p, e.dev);
    put_le(p + 8, e.ino);
    put_le(p + 16, e.size);
    put_le(p + 24, e.mtime_ns);
    std::memcpy(p + 32, e.sha.data(), 32);
    p += k_record;
  }
  return out;
}

}  // namespace

StatCache::StatCache(std::string path) : m_path(std::move(path)) {
  if (m_path.empty())
    return;
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
  if (!ok || n == 0) {  // absent, torn or not a stat cache: start empty
    ::close(fd);
    return;
  }
  // A record is an Entry's bytes on a little-endian machine: the file is
  // used in place. Elsewhere, or when out of order (an older writer, an
  // edit), it is read and decoded into memory once; the next save fixes it.
  m_map_len = static_cast<size_t>(st.st_size);
  m_map = ::mmap(nullptr, m_map_len, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m_map == MAP_FAILED) {
    m_map = nullptr;
    return;
  }
  const auto* bytes = static_cast<const unsigned char*>(m_map) + k_magic_len;
  m_base = reinterpret_cast<const Entry*>(bytes);
  m_count = n;
  // Checked a window at a time, each window's pages given back after it.
  bool sorted = std::endian::native == std::endian::little;
  constexpr size_t k_window = (4u << 20) / k_record;
  for (size_t i = 1; sorted && i < n; ++i) {
    if (!before(m_base[i - 1].dev, m_base[i - 1].ino, m_base[i].dev, m_base[i].ino))
      sorted = false;
    if (i % k_window == 0)
      release();
  }
  release();
  if (sorted)
    return;
  m_loaded.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* p = bytes + i * k_record;
    Entry& e = m_loaded[i];
    e.dev = get_le<uint64_t>(p);
    e.ino = get_le<uint64_t>(p + 8);
    e.size = get_le<int64_t>(p + 16);
    e.mtime_ns = get_le<int64_t>(p + 24);
    std::memcpy(e.sha.data(), p + 32, 32);
  }
  ::munmap(m_map, m_map_len);
  m_map = nullptr;
  std::stable_sort(m_loaded.begin(), m_loaded.end(), [](const Entry& a, const Entry& b) {
    return before(a.dev, a.ino, b.dev, b.ino);
  });
  auto same = [](const Entry& a, const Entry& b) { return a.dev == b.dev && a.ino == b.ino; };
  m_loaded.erase(std::unique(m_loaded.begin(), m_loaded.end(), same), m_loaded.end());
  m_base = m_loaded.data();
  m_count = m_loaded.size();
}

StatCache::~StatCache() {
  if (m_map)
    ::munmap(m_map, m_map_len);
  for (int fd : m_runs)
    ::close(fd);
}

void StatCache::release() {
  if (m_map)
    ::madvise(m_map, m_map_len,
              MADV_DONTNEED);  // a read-only file mapping: refaulted from the page cache
}

bool StatCache::lookup(const FileStat& st, Sha256Bytes& sha) const {
  const Entry* end = m_base + m_count;
  const Entry* it = std::lower_bound(m_base, end, st, [](const Entry& e, const FileStat& k) {
    return before(e.dev, e.ino, k.dev, k.ino);
  });
  if (it == end || it->dev != st.dev || it->ino != st.ino || it->size != st.size ||
      it->mtime_ns != st.mtime_ns)
    return false;
  sha = it->sha;
  return true;
}

std::string StatCache::lookup(const FileStat& st) const {
  Sha256Bytes sha;
  return lookup(st, sha) ? Digest(sha).text() : std::string();
}

void StatCache::remember(const FileStat& st, const std::string& digest) {
  Entry e{st.dev, st.ino, st.size, st.mtime_ns, {}};
  auto parsed = Digest::parse(digest);
  if (!parsed)
    return;
  e.sha = parsed->bytes();
  std::lock_guard lk(m_mu);
  m_new.push_back(e);
  if (m_new.size() % k_in_memory == 0)  // after a failed spill, tried again a bound later
    spill_locked();
}

// The new entries so far, sorted, into an unnamed file beside the cache; kept
// in memory when that fails.
void StatCache::spill_locked() {
  std::string dir = m_path.substr(0, m_path.rfind('/') + 1);
  int fd = open_unnamed_file(dir.empty() ? "." : dir);
  if (fd < 0)
    return;
  sort_newest_first(m_new);
  std::string out = records_of(m_new);
  if (!write_all(fd, out.data(), out.size())) {
    ::close(fd);
    return;
  }
  m_runs.push_back(fd);
  m_new.clear();
}

namespace {

// Sorted records from a file (at `offset`) or from memory, a buffer at a time.
class RecordReader {
 public:
  RecordReader(int fd, off_t offset) : m_fd(fd), m_off(offset) { fill(); }
  RecordReader(const unsigned char* data, size_t n) : m_mem(data), m_n(n) {}
  bool done() const { return m_i == m_n; }
  const unsigned char* head() const { return (m_mem ? m_mem : m_buf.data()) + m_i * k_record; }
  void pop() {
    if (++m_i == m_n && !m_mem)
      fill();
  }
  bool failed() const { return m_failed; }

 private:
  void fill() {
    m_buf.resize(1024 * k_record);  // 64 KiB: a run per 65,536 new entries, each with its buffer
    ssize_t got = ::pread(m_fd, m_buf.data(), m_buf.size(), m_off);
    if (got < 0) {
      m_failed = true;
      got = 0;
    }
    m_off += got;
    m_n = static_cast<size_t>(got) / k_record;
    m_i = 0;
  }
  int m_fd = -1;
  off_t m_off = 0;
  const unsigned char* m_mem = nullptr;
  std::vector<unsigned char> m_buf;
  size_t m_n = 0, m_i = 0;
  bool m_failed = false;
};

uint64_t dev_of(const unsigned char* p) {
  return get_le<uint64_t>(p);
}
uint64_t ino_of(const unsigned char* p) {
  return get_le<uint64_t>(p + 8);
}

}  // namespace

void StatCache::save() {
  if (m_path.empty() || (m_new.empty() && m_runs.empty()))
    return;
  // Sources newest first: what is in memory, the runs newest to oldest,
  // then the file as it was. Where several know a file, the newest wins.
  sort_newest_first(m_new);
  std::string fresh = records_of(m_new);
  std::vector<RecordReader> sources;
  sources.emplace_back(reinterpret_cast<const unsigned char*>(fresh.data()), m_new.size());
  size_t learned = m_new.size();
  for (auto it = m_runs.rbegin(); it != m_runs.rend(); ++it) {
    sources.emplace_back(*it, 0);
    struct stat st;
    if (::fstat(*it, &st) == 0)
      learned += static_cast<size_t>(st.st_size) / k_record;
  }
  int base_fd = -1;
  std::string loaded;
  if (m_count + learned <= k_max_entries) {  // beyond it the cache starts over
    if (!m_loaded.empty()) {
      loaded = records_of(m_loaded);
      sources.emplace_back(reinterpret_cast<const unsigned char*>(loaded.data()), m_loaded.size());
    } else if (m_count > 0) {
      base_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (base_fd >= 0)
        sources.emplace_back(base_fd, static_cast<off_t>(k_magic_len));
    }
  }
  // No fsync: after a crash a lost or empty cache only costs hashing again.
  std::string tmp = m_path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  std::string out(k_magic, k_magic_len);
  while (ok) {
    int best = -1;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (sources[i].done())
        continue;
      const unsigned char* h = sources[i].head();
      if (best < 0 ||
          before(dev_of(h), ino_of(h), dev_of(sources[best].head()), ino_of(sources[best].head())))
        best = static_cast<int>(i);  // on a tie the earlier (newer) source stays
    }
    if (best < 0)
      break;
    const unsigned char* h = sources[best].head();
    uint64_t dev = dev_of(h), ino = ino_of(h);
    out.append(reinterpret_cast<const char*>(h), k_record);
    for (auto& src : sources) {  // this file's older records
      while (!src.done() && dev_of(src.head()) == dev && ino_of(src.head()) == ino)
        src.pop();
    }
    if (out.size() >= (1u << 20)) {
      ok = write_all(fd, out.data(), out.size());
      out.clear();
    }
  }
  for (const auto& src : sources)
    ok = ok && !src.failed();
  if (ok)
    ok = write_all(fd, out.data(), out.size());
  if (fd >= 0)
    ::close(fd);
  if (base_fd >= 0)
    ::close(base_fd);
  if (!ok || std::rename(tmp.c_str(), m_path.c_str()) != 0)
    ::unlink(tmp.c_str());
  m_new.clear();
  for (int r : m_runs)
    ::close(r);
  m_runs.clear();
}

}  // namespace rh::data

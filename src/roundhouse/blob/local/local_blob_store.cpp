#include "roundhouse/blob/local/local_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_set>

#include "roundhouse/blob/local/packs.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"

namespace rh {

Result<std::unique_ptr<LocalBlobStore>> LocalBlobStore::open(const std::string& root) {
  RH_TRY(make_dirs(root + "/tmp"));
  // Every folder a loose object can go in, made at once: a store whose
  // objects are packed would otherwise try to open an absent folder for
  // each digest it is asked about.
  if (!path_exists(root + "/ff")) {
    for (int i = 0; i < 256; ++i) {
      char name[3];
      std::snprintf(name, sizeof name, "%02x", i);
      std::string dir = root + "/" + name;
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return make_error(ErrorCode::io, "cannot create " + dir + ": " + std::strerror(errno));
    }
  }
  return std::unique_ptr<LocalBlobStore>(new LocalBlobStore(root));
}

LocalBlobStore::LocalBlobStore(std::string root) : m_root(std::move(root)) {
  for (auto& fd : m_dir_fds)
    fd.store(-1);
}

LocalBlobStore::~LocalBlobStore() {
  for (auto& fd : m_dir_fds) {
    if (fd.load() >= 0)
      ::close(fd.load());
  }
}

int LocalBlobStore::dir_fd(const std::string& digest, bool create) {
  auto parsed = Digest::parse(digest);
  if (!parsed)
    return -1;
  size_t slot = parsed->shard();
  int fd = m_dir_fds[slot].load(std::memory_order_acquire);
  if (fd >= 0)
    return fd;
  std::string dir = m_root + "/" + std::string(digest_hex(digest).substr(0, 2));
  fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    if (!make_dirs(dir))
      return -1;
    fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0)
    return -1;
  int expected = -1;
  if (!m_dir_fds[slot].compare_exchange_strong(expected, fd)) {
    ::close(fd);  // another thread opened it first
    return expected;
  }
  return fd;
}

Status LocalBlobStore::put_bytes_unsynced(const std::string& digest, std::string_view bytes) {
  RH_TRY(validate_digest(digest));
  int dfd = dir_fd(digest, true);
  if (dfd < 0)
    return make_error(ErrorCode::io, "cannot open the folder of " + digest + " in " + m_root +
                                         ": " + std::strerror(errno));
  const char* name = object_name(digest);
  struct stat st;
  if (::fstatat(dfd, name, &st, 0) == 0) {
    if (static_cast<size_t>(st.st_size) == bytes.size())
      return {};               // stored already: deduplicated
    ::unlinkat(dfd, name, 0);  // damaged: replaced below
  }
  int fd = ::openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0) {  // no O_TMPFILE (or no /proc) here: the general path
    StringSource src(bytes);
    RH_TRY(put_unsynced(src, digest));
    return {};
  }
  if (!write_all(fd, bytes.data(), bytes.size())) {
    int err = errno;
    ::close(fd);
    return make_error(ErrorCode::io,
                      "cannot write " + digest + " into " + m_root + ": " + std::strerror(err));
  }
  // Linked by descriptor where the process may (CAP_DAC_READ_SEARCH: a
  // fifth cheaper than resolving /proc/self/fd/N), else through /proc.
  static std::atomic<bool> by_descriptor{true};
  int rc = -1, err = 0;
  if (by_descriptor.load(std::memory_order_relaxed)) {
    rc = ::linkat(fd, "", dfd, name, AT_EMPTY_PATH);
    err = errno;
    if (rc != 0 && (err == ENOENT || err == EPERM || err == EINVAL))
      by_descriptor.store(false, std::memory_order_relaxed);
  }
  if (!by_descriptor.load(std::memory_order_relaxed)) {
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    rc = ::linkat(AT_FDCWD, proc.c_str(), dfd, name, AT_SYMLINK_FOLLOW);
    err = errno;
  }
  ::close(fd);
  if (rc != 0 && err == ENOENT && ::access("/proc/self/fd", F_OK) != 0) {
    StringSource src(bytes);  // no /proc to link through: the general path
    RH_TRY(put_unsynced(src, digest));
    return {};
  }
  if (rc != 0 && err != EEXIST) {
    return make_error(ErrorCode::io,
                      "cannot link " + digest + " into " + m_root + ": " + std::strerror(err));
  }
  return {};
}

Result<std::string> LocalBlobStore::path_of(std::string_view digest) const {
  RH_TRY(validate_digest(digest));
  std::string_view hex = digest_hex(digest);
  return m_root + "/" + std::string(hex.substr(0, 2)) + "/" + std::string(hex.substr(2));
}

Result<BlobInfo> LocalBlobStore::put(ByteSource& src, std::string_view expected_digest) {
  return put_impl(src, expected_digest, true);
}

Result<BlobInfo> LocalBlobStore::put_unsynced(ByteSource& src, std::string_view expected_digest) {
  return put_impl(src, expected_digest, false);
}

Result<int64_t> LocalBlobStore::sweep_tmp(int64_t idle_seconds) {
  std::string dir = m_root + "/tmp";
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return make_error(ErrorCode::io, "cannot list " + dir + ": " + std::strerror(errno));
  int64_t removed = 0;
  time_t before = ::time(nullptr) - static_cast<time_t>(idle_seconds);
  while (struct dirent* e = ::readdir(d)) {
    struct stat st;  // files only: "." and ".." are folders
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (st.st_mtime < before && ::unlinkat(::dirfd(d), e->d_name, 0) == 0)
      ++removed;
  }
  ::closedir(d);
  return removed;
}

Result<Packs*> LocalBlobStore::packs(bool create) {
  std::lock_guard lk(m_packs_mu);
  if (!m_packs) {
    RH_TRY_ASSIGN(m_packs, Packs::open(m_root, create));
  }
  return m_packs.get();
}

namespace {

// The indexes of `items` (digest first) whose objects `store` lacks, each
// digest once though several items name it.
template <class Items>
Result<std::vector<size_t>> to_store(LocalBlobStore& store, const Items& items) {
  std::vector<std::string> digests;
  digests.reserve(items.size());
  for (const auto& it : items)
    digests.push_back(it.first);
  RH_TRY_ASSIGN(auto absent, store.missing(digests));
  std::unordered_set<std::string> want(absent.begin(), absent.end());
  std::vector<size_t> out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (want.erase(items[i].first))
      out.push_back(i);
  }
  return out;
}

}  // namespace

Status LocalBlobStore::put_checked(
    const std::vector<std::pair<std::string, std::string_view>>& objects) {
  RH_TRY_ASSIGN(auto todo, to_store(*this, objects));
  std::vector<std::pair<std::string, std::string_view>> rest;
  for (size_t i : todo)
    rest.push_back(objects[i]);
  if (rest.empty())
    return {};
  RH_TRY_ASSIGN(Packs * p, packs(true));
  return p->add(rest);
}

Status LocalBlobStore::put_many(const std::vector<std::pair<std::string, std::string>>& items) {
  constexpr uint64_t k_large = 4 << 20, k_pack_bytes = 16 << 20;
  constexpr size_t k_pack_objects = 2000;
  RH_TRY_ASSIGN(auto todo, to_store(*this, items));
  std::vector<uint64_t> sizes(todo.size());
  RH_TRY(parallel_for(todo.size(), [&](size_t k) -> Status {
    struct stat st;
    const std::string& path = items[todo[k]].second;
    if (::stat(path.c_str(), &st) != 0)
      return make_error(ErrorCode::io, "cannot read " + path + ": " + std::strerror(errno));
    sizes[k] = static_cast<uint64_t>(st.st_size);
    return {};
  }));
  bool loose = false;
  std::vector<size_t> group;  // indexes into todo, packed together
  uint64_t group_bytes = 0;
  auto pack_group = [&]() -> Status {
    std::vector<std::string> data(group.size());
    RH_TRY(parallel_for(group.size(), [&](size_t g) -> Status {
      const auto& [digest, path] = items[todo[group[g]]];
      RH_TRY_ASSIGN(data[g], read_file(path));
      std::string actual = sha256_digest(data[g]);
      if (actual != digest)
        return digest_mismatch(digest, actual, path);
      return {};
    }));
    std::vector<std::pair<std::string, std::string_view>> objects;
    for (size_t g = 0; g < group.size(); ++g)
      objects.emplace_back(items[todo[group[g]]].first, data[g]);
    if (!objects.empty()) {
      RH_TRY_ASSIGN(Packs * p, packs(true));
      RH_TRY(p->add(objects));
    }
    group.clear();
    group_bytes = 0;
    return {};
  };
  for (size_t k = 0; k < todo.size(); ++k) {
    const auto& [digest, path] = items[todo[k]];
    if (sizes[k] > k_large) {
      FileSource src(path);
      if (src.open_error())
        return make_error(*src.open_error());
      RH_TRY(put_unsynced(src, digest));
      loose = true;
      continue;
    }
    if (group.size() >= k_pack_objects || group_bytes + sizes[k] > k_pack_bytes)
      RH_TRY(pack_group());
    group.push_back(k);
    group_bytes += sizes[k];
  }
  RH_TRY(pack_group());
  return loose ? sync() : Status{};
}

Result<BlobInfo> LocalBlobStore::put_impl(ByteSource& src, std::string_view expected_digest,
                                          bool sync) {
  if (!expected_digest.empty()) {
    RH_TRY(validate_digest(expected_digest));
    // Already stored: drain nothing, the caller's bytes are known to match by name.
    if (auto size = stat(expected_digest))
      return BlobInfo{std::string(expected_digest), *size};
  }
  // The object's name is its digest, known only once written: commit_to() below.
  RH_TRY_ASSIGN(auto file, AtomicFile::create(m_root + "/tmp/unnamed", m_root + "/tmp"));
  Sha256 hasher;
  uint64_t size = 0;
  std::string buf(1 << 20, '\0');
  while (true) {
    RH_TRY_ASSIGN(size_t n, src.read(buf.data(), buf.size()));
    if (n == 0)
      break;
    hasher.update(buf.data(), n);
    RH_TRY(file.write(buf.data(), n));
    size += n;
  }
  std::string digest = hasher.finish();
  if (!expected_digest.empty() && digest != expected_digest) {
    return digest_mismatch(expected_digest, digest);
  }
  RH_TRY_ASSIGN(std::string final_path, path_of(digest));
  RH_TRY(make_dirs(dirname_of(final_path)));
  ::chmod(file.temp_path().c_str(), 0444);
  RH_TRY(file.commit_to(final_path, /*keep_existing=*/true, sync));
  return BlobInfo{digest, size};
}

Result<BlobInfo> LocalBlobStore::put_file(const std::string& path,
                                          std::string_view expected_digest) {
  if (!staged(path))
    return BlobStore::put_file(path, expected_digest);
  if (!expected_digest.empty()) {
    RH_TRY(validate_digest(expected_digest));
  }
  RH_TRY_ASSIGN(std::string digest, sha256_file(path));
  if (!expected_digest.empty() && digest != expected_digest) {
    return digest_mismatch(expected_digest, digest);
  }
  return put_staged(path, digest);
}

Result<BlobInfo> LocalBlobStore::put_staged(const std::string& path, const std::string& digest) {
  if (!staged(path))
    return make_error(ErrorCode::invalid_argument, path + " is not staged in " + m_root + "/tmp");
  RH_TRY(validate_digest(digest));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return make_error(ErrorCode::io, "cannot stat " + path);
  BlobInfo info{digest, static_cast<uint64_t>(st.st_size)};
  RH_TRY_ASSIGN(std::string final_path, path_of(digest));
  if (stat(digest))
    return info;  // stored already, loose or packed
  RH_TRY(make_dirs(dirname_of(final_path)));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::io, "cannot open " + path);
  int rc = ::fsync(fd);
  ::fchmod(fd, 0444);
  ::close(fd);
  if (rc != 0)
    return make_error(ErrorCode::io, "cannot fsync " + path);
  // link, not rename: the caller still owns (and removes) its staged file.
  if (::link(path.c_str(), final_path.c_str()) != 0 && errno != EEXIST)
    return make_error(ErrorCode::io, "cannot link " + path + " into place");
  RH_TRY(fsync_dir(dirname_of(final_path)));
  return info;
}

Status LocalBlobStore::sync() {
  std::unique_lock lk(m_sync_mu);
  uint64_t ticket = ++m_sync_asked;  // this caller's writes are done
  while (m_sync_done < ticket) {
    if (m_syncing) {
      m_sync_cv.wait(lk);
      continue;
    }
    m_syncing = true;
    uint64_t covers = m_sync_asked;  // every caller that asked before this syncfs began
    lk.unlock();
    int fd = ::open(m_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0 && ::syncfs(fd) != 0)
      err = errno;
    if (fd >= 0)
      ::close(fd);
    lk.lock();
    m_syncing = false;
    if (err == 0)
      m_sync_done = std::max(m_sync_done, covers);
    m_sync_cv.notify_all();
    if (err != 0)  // the waiters try again themselves
      return make_error(ErrorCode::io, "cannot sync " + m_root + ": " + std::strerror(err));
  }
  return {};
}

namespace {

// Where `digest`, which no loose file holds, sits in the packs (none: nullptr).
Result<Packs::Where> packed(Packs* packs, std::string_view digest) {
  if (packs) {
    RH_TRY_ASSIGN(auto where, packs->find(digest));
    if (where)
      return *where;
  }
  return make_error(ErrorCode::not_found, "no object " + std::string(digest));
}

}  // namespace

Status LocalBlobStore::get(std::string_view digest, ByteSink& sink, uint64_t offset,
                           uint64_t length) {
  RH_TRY_ASSIGN(std::string path, path_of(digest));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      RH_TRY_ASSIGN(Packs * p, packs(false));
      RH_TRY_ASSIGN(auto where, packed(p, digest));
      return p->read(where, sink, offset, length);
    }
    return make_error(ErrorCode::io, "cannot open " + path + ": " + std::strerror(errno));
  }
  Status result = read_range(fd, offset, length, sink, path, /*exact=*/false);
  ::close(fd);
  return result;
}

Result<uint64_t> LocalBlobStore::stat(std::string_view digest) {
  RH_TRY_ASSIGN(std::string path, path_of(digest));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      RH_TRY_ASSIGN(Packs * p, packs(false));
      RH_TRY_ASSIGN(auto where, packed(p, digest));
      return where.size;
    }
    return make_error(ErrorCode::io, "cannot stat " + path + ": " + std::strerror(errno));
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<std::vector<std::string>> LocalBlobStore::missing(const std::vector<std::string>& digests) {
  for (const auto& d : digests) {
    RH_TRY(validate_digest(d));
  }
  std::vector<char> absent(digests.size(), 0);
  RH_TRY(parallel_for(digests.size(), [&](size_t i) -> Status {
    int dfd = dir_fd(digests[i], false);
    struct stat st;
    if (dfd < 0 && errno != ENOENT)
      return make_error(ErrorCode::io, "cannot open the folder of " + digests[i] + " in " + m_root +
                                           ": " + std::strerror(errno));
    if (dfd < 0 || ::fstatat(dfd, object_name(digests[i]), &st, 0) != 0) {
      if (dfd >= 0 && errno != ENOENT)
        return make_error(ErrorCode::io, "cannot stat " + digests[i] + " in " + m_root + ": " +
                                             std::strerror(errno));
      absent[i] = 1;
    }
    return {};
  }));
  if (std::find(absent.begin(), absent.end(), 1) != absent.end()) {
    RH_TRY_ASSIGN(Packs * p, packs(false));
    if (p)
      RH_TRY(p->find_many(digests, absent));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < digests.size(); ++i) {
    if (absent[i])
      out.push_back(digests[i]);
  }
  return out;
}

Result<std::vector<BlobInfo>> LocalBlobStore::list() {
  std::vector<BlobInfo> out;
  DIR* top = ::opendir(m_root.c_str());
  if (!top)
    return make_error(ErrorCode::io, "cannot list " + m_root + ": " + std::strerror(errno));
  while (struct dirent* d = ::readdir(top)) {
    std::string shard = d->d_name;
    if (shard.size() != 2 || !is_hex(shard))
      continue;
    std::string dir = m_root + "/" + shard;
    DIR* sub = ::opendir(dir.c_str());
    if (!sub)
      continue;
    while (struct dirent* e = ::readdir(sub)) {
      std::string rest = e->d_name;
      if (rest.size() != Digest::k_hex_size - 2 || !is_hex(rest))
        continue;
      struct stat st;
      if (::stat((dir + "/" + rest).c_str(), &st) != 0)
        continue;
      out.push_back(BlobInfo{std::string(Digest::k_prefix) + shard + rest,
                             static_cast<uint64_t>(st.st_size)});
    }
    ::closedir(sub);
  }
  ::closedir(top);
  RH_TRY_ASSIGN(Packs * p, packs(false));
  if (p) {  // an object may be both loose and packed: listed once
    RH_TRY(p->list(out));
    std::sort(out.begin(), out.end(),
              [](const BlobInfo& a, const BlobInfo& b) { return a.digest < b.digest; });
    out.erase(
        std::unique(out.begin(), out.end(),
                    [](const BlobInfo& a, const BlobInfo& b) { return a.digest == b.digest; }),
        out.end());
  }
  return out;
}

Status LocalBlobStore::remove(std::string_view digest) {
  RH_TRY_ASSIGN(std::string path, path_of(digest));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return make_error(ErrorCode::io, "cannot remove " + path + ": " + std::strerror(errno));
  }
  RH_TRY_ASSIGN(Packs * p, packs(false));
  return p ? p->remove(digest) : Status{};
}

std::string LocalBlobStore::file_of(std::string_view digest) {
  auto path = path_of(digest);
  if (!path || ::access(path->c_str(), F_OK) != 0)
    return {};
  return *path;
}

}  // namespace rh

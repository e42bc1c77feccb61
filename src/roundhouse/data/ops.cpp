#include "roundhouse/data/ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "roundhouse/data/stat_cache.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/crash_point.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/trace.h"

namespace rh::data {

namespace {

struct Found {
  std::string abs;  // what to read (a symlink's target)
  std::string rel;  // path in the dataset
  struct stat st {};
};

Error os_err(const std::string& what, const std::string& path) {
  return Error{ErrorCode::io, what + " " + path + ": " + std::strerror(errno)};
}

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

bool inside(const std::string& path, const std::string& root) {
  return path == root || path.starts_with(root + "/");
}

// Runs fn(i) for i in [0, n) on every core; the first error wins.
Status parallel_for(size_t n, const std::function<Status(size_t)>& fn,
                    const std::function<void(uint64_t)>& tick = {}) {
  unsigned workers = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency() * 2, 16));
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  std::mutex mu;
  std::optional<Error> first;
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < std::min<size_t>(workers, std::max<size_t>(n, 1)); ++w) {
    threads.emplace_back([&] {
      while (true) {
        size_t i = next++;
        if (i >= n)
          return;
        {
          std::lock_guard lk(mu);
          if (first)
            return;
        }
        if (auto st = fn(i); !st) {
          std::lock_guard lk(mu);
          if (!first)
            first = st.error();
          return;
        }
        uint64_t d = ++done;
        if (tick && (d % 256 == 0 || d == n)) {
          std::lock_guard lk(mu);
          tick(d);
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  if (first)
    return std::unexpected(*first);
  return {};
}

// One folder of a walk: its files (symlinks resolved, which must stay inside
// `root_real`) and its subfolders. Entries are stat'ed relative to the
// folder's descriptor, sparing the kernel a walk of the whole path per file.
struct Folder {
  std::string path, rel;
};
Status scan_folder(const Folder& f, const std::string& root_real, const std::string& wildcard,
                   std::vector<Found>& files, std::vector<Folder>& subfolders) {
  int dfd = ::open(f.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = dfd < 0 ? nullptr : ::fdopendir(dfd);
  if (!d) {
    if (dfd >= 0)
      ::close(dfd);
    return std::unexpected(os_err("cannot read folder", f.path));
  }
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{d};
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..")
      names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string path = f.path + "/" + n;
    std::string rel = f.rel.empty() ? n : f.rel + "/" + n;
    struct stat st;
    if (::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return std::unexpected(os_err("cannot stat", path));
    if (S_ISDIR(st.st_mode)) {
      subfolders.push_back(Folder{std::move(path), std::move(rel)});
      continue;
    }
    if (!wildcard.empty() && ::fnmatch(wildcard.c_str(), n.c_str(), 0) != 0 && !S_ISLNK(st.st_mode))
      continue;
    if (S_ISREG(st.st_mode)) {
      files.push_back(Found{std::move(path), std::move(rel), st});
      continue;
    }
    if (!S_ISLNK(st.st_mode))
      continue;  // sockets, FIFOs, devices: not data
    std::string target = real_path(path);
    if (target.empty())
      return make_error(ErrorCode::invalid_argument, "symlink " + path + " is broken");
    if (!inside(target, root_real)) {
      return make_error(ErrorCode::invalid_argument, "symlink " + path + " points to " + target +
                                                         ", outside " + root_real +
                                                         " (add that file itself)");
    }
    if (::stat(target.c_str(), &st) != 0)
      return std::unexpected(os_err("cannot stat", target));
    // A link to a folder inside: its files are added under their own path.
    if (S_ISREG(st.st_mode) && (wildcard.empty() || ::fnmatch(wildcard.c_str(), n.c_str(), 0) == 0))
      files.push_back(Found{std::move(target), std::move(rel), st});
  }
  return {};
}

// The files under a folder, a level of folders at a time, each level's
// folders scanned on every core (stat is most of a walk's time).
Status walk(const std::string& dir, const std::string& root_real, const std::string& wildcard,
            std::vector<Found>& out) {
  std::vector<Folder> level{Folder{dir, ""}};
  while (!level.empty()) {
    std::vector<std::vector<Found>> files(level.size());
    std::vector<std::vector<Folder>> subs(level.size());
    RH_TRY(parallel_for(level.size(), [&](size_t i) -> Status {
      return scan_folder(level[i], root_real, wildcard, files[i], subs[i]);
    }));
    std::vector<Folder> next;
    for (size_t i = 0; i < level.size(); ++i) {
      out.insert(out.end(), std::make_move_iterator(files[i].begin()),
                 std::make_move_iterator(files[i].end()));
      next.insert(next.end(), std::make_move_iterator(subs[i].begin()),
                  std::make_move_iterator(subs[i].end()));
    }
    level = std::move(next);
  }
  return {};
}

std::string join_path(const std::string& prefix, const std::string& rel) {
  if (prefix.empty())
    return rel;
  std::string p = prefix;
  while (!p.empty() && p.back() == '/')
    p.pop_back();
  while (!p.empty() && p.front() == '/')
    p.erase(0, 1);
  return p.empty() ? rel : p + "/" + rel;
}

constexpr off_t k_small_file = 1 << 20;

// Bytes already hashed (digest) into the cache: nothing written when the
// object exists; otherwise an unnamed file (O_TMPFILE) linked into place once
// complete, so a crash never leaves a partial object under a digest's name.
Result<std::string> store_bytes(LocalBlobStore& cache, const std::string& digest,
                                std::string_view buf) {
  size_t size = buf.size();
  RH_TRY_ASSIGN(std::string final_path, cache.path_of(digest));
  struct stat st;
  if (::stat(final_path.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) == size)
    return digest;  // stored already: deduplicated
  std::string dir = dirname_of(final_path);
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0 && errno == ENOENT) {
    RH_TRY(make_dirs(dir));
    fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
  }
  if (fd < 0) {  // no O_TMPFILE here: the general path
    StringSource src(buf);
    RH_TRY_ASSIGN(BlobInfo info, cache.put_unsynced(src, digest));
    return info.digest;
  }
  size_t off = 0;
  while (off < size) {
    ssize_t n = ::write(fd, buf.data() + off, size - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      ::close(fd);
      return std::unexpected(os_err("cannot write into the cache:", digest));
    }
    off += static_cast<size_t>(n);
  }
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  int rc = ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, final_path.c_str(), AT_SYMLINK_FOLLOW);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err == ENOENT && !path_exists("/proc/self/fd")) {  // no /proc: the general path
    StringSource src(buf);
    RH_TRY_ASSIGN(BlobInfo info, cache.put_unsynced(src, digest));
    return info.digest;
  }
  if (rc != 0 && err != EEXIST) {
    errno = err;
    return std::unexpected(os_err("cannot link into the cache", final_path));
  }
  return digest;
}

// A small file into the cache with the fewest file-system operations: read
// whole and hashed in memory, then store_bytes().
Result<std::string> put_small(LocalBlobStore& cache, const std::string& path, size_t size) {
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return std::unexpected(os_err("cannot read", path));
  std::string buf(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(in, buf.data() + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  ::close(in);
  if (got != size)
    return make_error(ErrorCode::io, path + " changed while it was read; add it again");
  return store_bytes(cache, sha256_digest(buf), buf);
}

std::string manifest_text(const std::vector<DatasetFile>& files) {
  std::string out;
  for (const auto& f : files)
    out += to_json(f).dump() + "\n";
  return out;
}

}  // namespace

Result<std::vector<DatasetFile>> all_files(DatasetStore& ds, const std::string& id) {
  std::vector<DatasetFile> out;
  std::string after;
  while (true) {
    RH_TRY_ASSIGN(auto page, ds.files(id, after, 50000));
    if (page.empty())
      break;
    after = page.back().path;
    bool last = page.size() < 50000;
    out.insert(out.end(), std::make_move_iterator(page.begin()),
               std::make_move_iterator(page.end()));
    if (last)
      break;
  }
  return out;
}

Result<std::vector<DatasetFile>> collect(DataContext& ctx, const std::vector<std::string>& paths,
                                         const AddOptions& opt, const KnownFn& known_fn) {
  if (paths.empty())
    return make_error(ErrorCode::invalid_argument, "give at least one file or folder to add");
  std::vector<Found> found;
  Trace walk_trace("collect: walk");
  for (const auto& p : paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0)
      return make_error(ErrorCode::not_found, "cannot add " + p + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      std::string root = real_path(p);
      std::vector<Found> here;
      RH_TRY(walk(p, root, opt.wildcard, here));
      for (auto& f : here)
        f.rel = join_path(opt.dataset_path, f.rel);
      found.insert(found.end(), here.begin(), here.end());
    } else if (S_ISREG(st.st_mode)) {
      std::string name = basename_of(p);
      if (!opt.wildcard.empty() && ::fnmatch(opt.wildcard.c_str(), name.c_str(), 0) != 0)
        continue;
      found.push_back(Found{p, join_path(opt.dataset_path, name), st});
    } else {
      return make_error(ErrorCode::invalid_argument, "cannot add " + p + ": not a file or folder");
    }
  }
  walk_trace.end();
  const KnownDigests* known = nullptr;
  if (known_fn) {
    RH_TRY_ASSIGN(known, known_fn());
  }
  Trace load_trace("collect: stat cache load");
  StatCache stat_cache(ctx.stat_cache_path);
  load_trace.end();
  std::vector<DatasetFile> out(found.size());
  std::atomic<int64_t> hashed{0};
  auto put_one = [&](size_t i) -> Status {
    const Found& f = found[i];
    DatasetFile& d = out[i];
    d.path = f.rel;
    d.size = static_cast<uint64_t>(f.st.st_size);
    d.mode = f.st.st_mode & 0777;
    std::string seen = stat_cache.lookup(f.st);
    if (!seen.empty()) {
      if (known) {  // the version has this content at this path already: nothing to store
        auto it = known->find(d.path);
        if (it != known->end() && it->second == seen) {
          d.digest = std::move(seen);
          return {};
        }
      }
      auto cached = ctx.cache.stat(seen);
      if (cached && *cached == d.size) {
        d.digest = std::move(seen);
        return {};
      }
    }
    ++hashed;
    if (f.st.st_size <= k_small_file) {
      RH_TRY_ASSIGN(d.digest, put_small(ctx.cache, f.abs, static_cast<size_t>(f.st.st_size)));
    } else {
      FileSource src(f.abs);
      if (src.open_error())
        return make_error(ErrorCode::io, "cannot read " + f.abs + ": " + src.open_error()->message);
      auto put = ctx.cache.put_unsynced(src, "");
      if (!put)
        return make_error(put.error().code, f.abs + ": " + put.error().message);
      d.digest = put->digest;
    }
    stat_cache.remember(f.st, d.digest);
    crash_point("add:object");  // some contents in the cache, not all
    return {};
  };
  Trace hash_trace("collect: hash and store");
  Status st = parallel_for(found.size(), put_one, [&](uint64_t done) {
    if (ctx.progress)
      ctx.progress("hashing", done, found.size());
  });
  ctx.hashed = hashed;
  hash_trace.end();
  if (hashed > 0) {
    Trace t("collect: sync");
    RH_TRY(ctx.cache.sync());  // every new object durable before any row points to it
  }
  {
    Trace t("collect: stat cache save");
    stat_cache.save();
  }
  RH_TRY(std::move(st));
  // Two arguments that name the same dataset path: the later wins.
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < out.size(); ++i)
    last[out[i].path] = i;
  std::vector<DatasetFile> unique;
  unique.reserve(last.size());
  for (const auto& [path, i] : last)
    unique.push_back(std::move(out[i]));
  return unique;
}

Result<int64_t> add(DataContext& ctx, const std::string& id, const std::vector<std::string>& paths,
                    const AddOptions& opt) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  if (v.state != DatasetState::draft) {
    return make_error(ErrorCode::conflict,
                      "dataset version " + id + " is final; create a new version to change it");
  }
  RH_TRY_ASSIGN(auto files, collect(ctx, paths, opt));
  crash_point("add:stored");  // contents in the cache, no row yet
  Trace t("add: put rows");
  RH_TRY(ctx.store.datasets().put_files(id, files));
  return static_cast<int64_t>(files.size());
}

Result<SyncResult> sync(DataContext& ctx, const std::string& id, const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(ErrorCode::invalid_argument, "rh data sync needs a folder, got " + dir);
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  if (v.state != DatasetState::draft) {
    return make_error(ErrorCode::conflict,
                      "dataset version " + id + " is final; create a new version to change it");
  }
  // The version's rows are read while the folder is walked.
  Result<std::vector<DatasetFile>> before_r = std::vector<DatasetFile>{};
  KnownDigests known;
  std::thread rows([&] {
    Trace t("sync: read rows");
    before_r = all_files(ctx.store.datasets(), id);
    if (!before_r)
      return;
    known.reserve(before_r->size());
    for (const auto& f : *before_r)
      known.emplace(f.path, f.digest);
  });
  bool joined = false;
  auto now = collect(ctx, {dir}, AddOptions{}, [&]() -> Result<const KnownDigests*> {
    rows.join();
    joined = true;
    if (!before_r)
      return std::unexpected(before_r.error());
    return &known;
  });
  if (!joined)
    rows.join();
  if (!before_r)
    return std::unexpected(before_r.error());
  if (!now)
    return std::unexpected(now.error());
  const std::vector<DatasetFile>& before = *before_r;
  Trace diff_trace("sync: diff and write");
  std::unordered_map<std::string_view, const DatasetFile*> old;
  old.reserve(before.size());
  for (const auto& f : before)
    old[f.path] = &f;
  SyncResult r;
  std::vector<DatasetFile> changed;
  for (const auto& f : *now) {
    auto it = old.find(f.path);
    if (it == old.end()) {
      ++r.added;
      changed.push_back(f);
    } else {
      if (it->second->digest != f.digest || it->second->mode != f.mode) {
        ++r.modified;
        changed.push_back(f);
      } else {
        ++r.unchanged;
      }
      old.erase(it);
    }
  }
  if (!changed.empty()) {
    RH_TRY(ctx.store.datasets().put_files(id, changed));
  }
  for (const auto& [path, f] : old) {
    RH_TRY(ctx.store.datasets().remove_files(id, std::string(path)));
    ++r.removed;
  }
  return r;
}

namespace {

// The distinct contents of a version's files.
std::vector<std::string> unique_digests(const std::vector<DatasetFile>& files) {
  std::vector<std::string> digests;
  for (const auto& f : files)
    digests.push_back(f.digest);
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  return digests;
}

// Sends what the server lacks of these files' contents.
Result<int64_t> upload_files(DataContext& ctx, const std::vector<DatasetFile>& files) {
  Trace missing_trace("upload: missing");
  RH_TRY_ASSIGN(auto missing, ctx.remote.missing(unique_digests(files)));
  missing_trace.end();
  Trace send_trace("upload: send");
  // In slices, so progress moves and an interruption loses at most one slice.
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& d : missing) {
    RH_TRY_ASSIGN(std::string path, ctx.cache.path_of(d));
    if (!path_exists(path)) {
      return make_error(ErrorCode::not_found,
                        "the local cache has no copy of " + d + "; add the files again");
    }
    items.emplace_back(d, path);
  }
  for (size_t i = 0; i < items.size(); i += 2000) {
    std::vector<std::pair<std::string, std::string>> slice(
        items.begin() + static_cast<long>(i),
        items.begin() + static_cast<long>(std::min(items.size(), i + 2000)));
    RH_TRY(ctx.remote.put_many(slice));
    crash_point("upload:slice");  // one slice on the server, the rest not
    if (ctx.progress)
      ctx.progress("uploading", std::min(items.size(), i + 2000), items.size());
  }
  return static_cast<int64_t>(missing.size());
}

}  // namespace

Result<int64_t> upload(DataContext& ctx, const std::string& id) {
  if (ctx.cache_is_remote)
    return int64_t{0};  // the files went into the server's own folder when added
  RH_TRY_ASSIGN(auto files, all_files(ctx.store.datasets(), id));
  return upload_files(ctx, files);
}

Result<DatasetVersion> finalize(DataContext& ctx, const std::string& id, bool upload_first) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  if (v.state != DatasetState::draft)
    return make_error(ErrorCode::conflict, "dataset version " + id + " is already final");
  RH_TRY_ASSIGN(auto files, all_files(ctx.store.datasets(), id));
  if (upload_first && !ctx.cache_is_remote) {
    RH_TRY(upload_files(ctx, files));
  }
  RH_TRY_ASSIGN(auto missing, ctx.remote.missing(unique_digests(files)));
  if (!missing.empty()) {
    return make_error(ErrorCode::conflict, std::to_string(missing.size()) +
                                               " file content(s) of version " + id +
                                               " are not on the server yet; run `rh data upload " +
                                               id + "` or finalize with --upload");
  }
  std::string text = manifest_text(files);  // outlives the source that views it
  StringSource src(text);
  RH_TRY_ASSIGN(BlobInfo manifest, ctx.remote.put(src, ""));
  crash_point("finalize:manifest");  // the manifest stored, the row still a draft
  return ctx.store.datasets().finalize(id, manifest.digest);
}

Result<GetResult> get(DataContext& ctx, const std::string& id, const std::string& output,
                      bool writable, bool verify) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  GetResult r;
  r.dir = output.empty() ? ctx.datasets_dir + "/" + v.id : output;
  Trace rows_trace("get: read rows");
  RH_TRY_ASSIGN(auto files, all_files(ctx.store.datasets(), id));
  rows_trace.end();
  Trace fetch_trace("get: check cache and fetch");
  r.files = static_cast<int64_t>(files.size());
  // The cache first: fetch what is missing (or damaged), verified by its digest.
  std::mutex mu;
  std::vector<size_t> need;
  std::map<std::string, bool> seen;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!seen.emplace(files[i].digest, true).second)
      continue;
    need.push_back(i);
  }
  std::atomic<int64_t> downloaded{0};
  // Small objects missing from the cache come many to a request, each
  // checked against its digest on the way in, and are synced once.
  if (!ctx.cache_is_remote) {
    // Slices of at most 1,000 objects and 32 MiB (the server answers up to 64 MiB).
    std::vector<std::vector<std::string>> slices(1);
    uint64_t slice_bytes = 0, small_count = 0;
    std::vector<size_t> rest;
    for (size_t k : need) {
      const DatasetFile& f = files[k];
      if (f.size > static_cast<uint64_t>(k_small_file) || verify || ctx.cache.stat(f.digest)) {
        rest.push_back(k);
        continue;
      }
      if (slices.back().size() >= 1000 || slice_bytes + f.size > (32u << 20)) {
        slices.emplace_back();
        slice_bytes = 0;
      }
      slices.back().push_back(f.digest);
      slice_bytes += f.size;
      ++small_count;
    }
    uint64_t fetched = 0;
    for (const auto& slice : slices) {
      if (slice.empty())
        continue;
      RH_TRY(
          ctx.remote.get_many(slice, [&](const std::string& d, std::string_view bytes) -> Status {
            StringSource src(bytes);
            RH_TRY(ctx.cache.put_unsynced(src, d));
            ++downloaded;
            if (ctx.progress && (++fetched % 256 == 0 || fetched == small_count))
              ctx.progress("downloading", fetched, small_count);
            return {};
          }));
    }
    if (small_count > 0) {
      RH_TRY(ctx.cache.sync());
    }
    need = std::move(rest);
  }
  RH_TRY(parallel_for(
      need.size(),
      [&](size_t k) -> Status {
        const DatasetFile& f = files[need[k]];
        auto size = ctx.cache.stat(f.digest);
        bool bad = size && *size != f.size;
        if (size && !bad && verify) {
          RH_TRY_ASSIGN(std::string path, ctx.cache.path_of(f.digest));
          RH_TRY_ASSIGN(std::string actual, sha256_file(path));
          bad = actual != f.digest;
        }
        if (size && !bad)
          return {};
        if (bad) {
          {
            std::lock_guard lk(mu);
            r.repaired.push_back(f.digest);
          }
          RH_TRY(ctx.cache.remove(f.digest));
          if (ctx.cache_is_remote) {
            return make_error(ErrorCode::corrupt, "the stored copy of " + f.path + " (" + f.digest +
                                                      ") is damaged and there is no other copy");
          }
        } else if (ctx.cache_is_remote) {
          return make_error(ErrorCode::not_found, "the content of " + f.path + " is missing");
        }
        // Stream from the server into the cache; the cache checks the digest.
        std::string tmp;
        {
          auto file = AtomicFile::create(ctx.datasets_dir + "/.download", ctx.datasets_dir);
          if (!file)
            return std::unexpected(file.error());
          tmp = file->temp_path();
          struct Sink : ByteSink {
            AtomicFile& f;
            explicit Sink(AtomicFile& f) : f(f) {}
            Status write(const char* d, size_t n) override { return f.write(d, n); }
          } sink(*file);
          RH_TRY(ctx.remote.get(f.digest, sink));
          RH_TRY(ctx.cache.put_file(tmp, f.digest));
          ::unlink(tmp.c_str());
        }
        ++downloaded;
        return {};
      },
      [&](uint64_t done) {
        if (ctx.progress)
          ctx.progress("downloading", done, need.size());
      }));
  r.downloaded = downloaded;
  fetch_trace.end();
  Trace link_trace("get: link");
  // Then the folder: links into the cache (read-only), or copies.
  std::string tmp_dir = r.dir + ".partial";
  RH_TRY(remove_all(tmp_dir));
  RH_TRY(make_dirs(tmp_dir));
  std::atomic<int64_t> linked{0}, copied{0};
  std::mutex dir_mu;
  RH_TRY(parallel_for(files.size(), [&](size_t i) -> Status {
    const DatasetFile& f = files[i];
    std::string dst = tmp_dir + "/" + f.path;
    {
      std::lock_guard lk(dir_mu);
      RH_TRY(make_dirs(dirname_of(dst)));
    }
    RH_TRY_ASSIGN(std::string src, ctx.cache.path_of(f.digest));
    if (!writable && ::link(src.c_str(), dst.c_str()) == 0) {
      ++linked;
      return {};
    }
    if (!writable && errno != EXDEV && errno != EMLINK && errno != EPERM)
      return std::unexpected(os_err("cannot link", dst));
    int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
      return std::unexpected(os_err("cannot read", src));
    int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                     writable ? (f.mode | 0200) : (f.mode & 0555));
    if (out < 0) {
      ::close(in);
      return std::unexpected(os_err("cannot write", dst));
    }
    char buf[1 << 16];
    ssize_t n;
    while ((n = ::read(in, buf, sizeof buf)) > 0) {
      if (::write(out, buf, static_cast<size_t>(n)) != n) {
        ::close(in);
        ::close(out);
        return std::unexpected(os_err("cannot write", dst));
      }
    }
    ::close(in);
    ::close(out);
    ++copied;
    return {};
  }));
  r.linked = linked;
  r.copied = copied;
  RH_TRY(remove_all(r.dir));
  RH_TRY(rename_path(tmp_dir, r.dir));
  return r;
}

}  // namespace rh::data

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
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "roundhouse/data/stat_cache.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/crash_point.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/trace.h"

namespace rh::data {

namespace {

// A file a walk found. Its content is read from <folder>/<name> (the name
// being the last part of `rel`) unless `target` says otherwise (a symlink's
// target, a file given by itself): no absolute path is kept per file.
struct Found {
  std::string rel;  // path in the dataset
  std::string target;
  uint32_t folder = 0;  // index into Walk::folders
  FileStat st;
};

struct Walk {
  std::vector<std::string> folders;
  std::vector<Found> files;

  std::string abs_of(const Found& f, const std::string& rel) const {
    if (!f.target.empty())
      return f.target;
    size_t slash = rel.rfind('/');
    return folders[f.folder] + "/" + (slash == std::string::npos ? rel : rel.substr(slash + 1));
  }
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

// One folder of a walk: its files (symlinks resolved, which must stay inside
// `root_real`) and its subfolders. Entries are stat'ed relative to the
// folder's descriptor, sparing the kernel a walk of the whole path per file.
struct Folder {
  std::string path, rel;
  uint32_t index = 0;  // in Walk::folders
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
    const char* n = e->d_name;
    if (!(n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))))
      names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  files.reserve(names.size());
  for (auto& n : names) {
    auto rel = [&] { return f.rel.empty() ? n : f.rel + "/" + n; };
    struct stat st;
    if (::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return std::unexpected(os_err("cannot stat", f.path + "/" + n));
    if (S_ISDIR(st.st_mode)) {
      subfolders.push_back(Folder{f.path + "/" + n, rel(), 0});
      continue;
    }
    if (!wildcard.empty() && ::fnmatch(wildcard.c_str(), n.c_str(), 0) != 0 && !S_ISLNK(st.st_mode))
      continue;
    if (S_ISREG(st.st_mode)) {
      files.push_back(Found{rel(), {}, f.index, FileStat::of(st)});
      continue;
    }
    if (!S_ISLNK(st.st_mode))
      continue;  // sockets, FIFOs, devices: not data
    std::string path = f.path + "/" + n;
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
      files.push_back(Found{rel(), std::move(target), f.index, FileStat::of(st)});
  }
  return {};
}

// The files under a folder, a level of folders at a time, each level's
// folders scanned on every core (stat is most of a walk's time). `rel` is
// the dataset path the folder's files go under.
Status walk(const std::string& dir, const std::string& rel, const std::string& root_real,
            const std::string& wildcard, Walk& out) {
  std::vector<Folder> level{Folder{dir, rel, 0}};
  while (!level.empty()) {
    for (auto& f : level) {
      f.index = static_cast<uint32_t>(out.folders.size());
      out.folders.push_back(f.path);
    }
    std::vector<std::vector<Found>> files(level.size());
    std::vector<std::vector<Folder>> subs(level.size());
    RH_TRY(parallel_for(level.size(), [&](size_t i) -> Status {
      return scan_folder(level[i], root_real, wildcard, files[i], subs[i]);
    }));
    std::vector<Folder> next;
    for (size_t i = 0; i < level.size(); ++i) {
      out.files.insert(out.files.end(), std::make_move_iterator(files[i].begin()),
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

// A small file into the cache with the fewest file-system operations: read
// whole and hashed in memory, then stored without a second read.
Result<std::string> put_small(LocalBlobStore& cache, const std::string& path, size_t size) {
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return std::unexpected(os_err("cannot read", path));
  std::string buf(size, '\0');
  ssize_t got = read_full(in, buf.data(), size);
  ::close(in);
  if (got != static_cast<ssize_t>(size))
    return make_error(ErrorCode::io, path + " changed while it was read; add it again");
  std::string digest = sha256_digest(buf);
  RH_TRY(cache.put_bytes_unsynced(digest, buf));
  return digest;
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

namespace {

// A version's rows in path order, a slice at a time; the next slice is read
// while the caller works on this one, so an operation holds two slices of
// rows at most, whatever the version's size.
class RowSlices {
 public:
  RowSlices(DatasetStore& ds, std::string id, size_t size = 16000)
      : m_ds(ds), m_id(std::move(id)), m_size(size) {
    read_after("");
  }
  // The next slice; empty after the last.
  Result<std::vector<DatasetFile>> next() {
    if (!m_pending.valid())
      return std::vector<DatasetFile>{};
    auto slice = m_pending.get();
    if (slice && slice->size() == m_size)
      read_after(slice->back().path);
    return slice;
  }

 private:
  void read_after(std::string after) {
    m_pending = std::async(std::launch::async, [this, after = std::move(after)] {
      return m_ds.files(m_id, after, static_cast<int>(m_size));
    });
  }
  DatasetStore& m_ds;
  std::string m_id;
  size_t m_size;
  std::future<Result<std::vector<DatasetFile>>> m_pending;  // last: joined first
};

}  // namespace

namespace {

// Rows of a version in path order, and how collect() asks for them once the
// walk is done (so they can be read meanwhile).
using KnownRows = std::vector<DatasetFile>;
using KnownFn = std::function<Result<const KnownRows*>()>;

// What collect() found under its paths: one file per dataset path, in path
// order. With the version's rows, each file's row (or -1), and whether the
// row has its content and mode already (`same`; its digest is then left
// empty: a file the stat cache knows with the digest its row has is taken as
// it is, its content was stored when that row was written).
struct Scan {
  std::vector<DatasetFile> files;
  std::vector<int64_t> row;
  std::vector<char> same;
  int64_t hashed = 0;
};

Result<Scan> scan(DataContext& ctx, const std::vector<std::string>& paths, const AddOptions& opt,
                  const KnownFn& known_fn) {
  if (paths.empty())
    return make_error(ErrorCode::invalid_argument, "give at least one file or folder to add");
  Walk w;
  Trace walk_trace("collect: walk");
  std::string prefix = join_path(opt.dataset_path, "");
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  for (const auto& p : paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0)
      return make_error(ErrorCode::not_found, "cannot add " + p + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      RH_TRY(walk(p, prefix, real_path(p), opt.wildcard, w));
    } else if (S_ISREG(st.st_mode)) {
      std::string name = basename_of(p);
      if (!opt.wildcard.empty() && ::fnmatch(opt.wildcard.c_str(), name.c_str(), 0) != 0)
        continue;
      w.files.push_back(Found{join_path(opt.dataset_path, name), p, 0, FileStat::of(st)});
    } else {
      return make_error(ErrorCode::invalid_argument, "cannot add " + p + ": not a file or folder");
    }
  }
  walk_trace.end();

  // Path order, one file per path: when two arguments name the same dataset
  // path the later wins. A walk is usually in order already.
  std::vector<uint32_t> order(w.files.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<uint32_t>(i);
  auto by_path = [&](uint32_t a, uint32_t b) { return w.files[a].rel < w.files[b].rel; };
  if (!std::is_sorted(order.begin(), order.end(), by_path))
    std::stable_sort(order.begin(), order.end(), by_path);
  Scan out;
  std::vector<uint32_t> keep;
  keep.reserve(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && w.files[order[i]].rel == w.files[order[i + 1]].rel)
      continue;  // a later argument has this path
    keep.push_back(order[i]);
  }
  out.files.resize(keep.size());
  for (size_t k = 0; k < keep.size(); ++k) {
    Found& f = w.files[keep[k]];
    DatasetFile& d = out.files[k];
    d.path = std::move(f.rel);
    d.size = static_cast<uint64_t>(f.st.size);
    d.mode = f.st.mode & 0777;
  }
  out.row.assign(keep.size(), -1);
  out.same.assign(keep.size(), 0);

  const KnownRows* known = nullptr;
  if (known_fn) {
    RH_TRY_ASSIGN(known, known_fn());
  }
  if (known) {  // both in path order: one merge pass
    size_t j = 0;
    for (size_t k = 0; k < out.files.size() && j < known->size(); ++k) {
      while (j < known->size() && (*known)[j].path < out.files[k].path)
        ++j;
      if (j < known->size() && (*known)[j].path == out.files[k].path)
        out.row[k] = static_cast<int64_t>(j);
    }
  }
  Trace load_trace("collect: stat cache load");
  StatCache stat_cache(ctx.stat_cache_path);
  load_trace.end();
  std::atomic<int64_t> hashed{0};
  auto put_one = [&](size_t k) -> Status {
    const Found& f = w.files[keep[k]];
    DatasetFile& d = out.files[k];
    Sha256Bytes sha;
    if (stat_cache.lookup(f.st, sha)) {
      if (out.row[k] >= 0) {  // the version has this content at this path: nothing to store
        const DatasetFile& r = (*known)[static_cast<size_t>(out.row[k])];
        char hex[64];
        to_hex(sha.data(), sha.size(), hex);
        if (r.digest.size() == 71 && r.digest.compare(7, 64, hex, 64) == 0) {
          if (r.mode == d.mode)
            out.same[k] = 1;
          else
            d.digest = r.digest;
          return {};
        }
      }
      std::string digest = "sha256:" + to_hex(sha.data(), sha.size());
      auto cached = ctx.cache.stat(digest);
      if (cached && *cached == d.size) {
        d.digest = std::move(digest);
        return {};
      }
    }
    ++hashed;
    std::string abs = w.abs_of(f, d.path);
    if (f.st.size <= k_small_file) {
      RH_TRY_ASSIGN(d.digest, put_small(ctx.cache, abs, static_cast<size_t>(f.st.size)));
    } else {
      FileSource src(abs);
      if (src.open_error())
        return make_error(ErrorCode::io, "cannot read " + abs + ": " + src.open_error()->message);
      auto put = ctx.cache.put_unsynced(src, "");
      if (!put)
        return make_error(put.error().code, abs + ": " + put.error().message);
      d.digest = put->digest;
    }
    stat_cache.remember(f.st, d.digest);
    crash_point("add:object");  // some contents in the cache, not all
    return {};
  };
  Trace hash_trace("collect: hash and store");
  Status st = parallel_for(out.files.size(), put_one, [&](uint64_t done) {
    if (ctx.progress)
      ctx.progress("hashing", done, out.files.size());
  });
  out.hashed = hashed;
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
  return out;
}

}  // namespace

Result<std::vector<DatasetFile>> collect(DataContext& ctx, const std::vector<std::string>& paths,
                                         const AddOptions& opt) {
  RH_TRY_ASSIGN(Scan s, scan(ctx, paths, opt, {}));
  return std::move(s.files);
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
  Result<KnownRows> before = KnownRows{};
  std::thread rows([&] {
    Trace t("sync: read rows");
    before = all_files(ctx.store.datasets(), id);
    auto by_path = [](const DatasetFile& a, const DatasetFile& b) { return a.path < b.path; };
    if (before && !std::is_sorted(before->begin(), before->end(), by_path))
      std::sort(before->begin(), before->end(), by_path);
  });
  bool joined = false;
  auto now = scan(ctx, {dir}, AddOptions{}, [&]() -> Result<const KnownRows*> {
    rows.join();
    joined = true;
    if (!before)
      return std::unexpected(before.error());
    return &*before;
  });
  if (!joined)
    rows.join();
  if (!before)
    return std::unexpected(before.error());
  if (!now)
    return std::unexpected(now.error());
  Trace diff_trace("sync: diff and write");
  SyncResult r;
  std::vector<DatasetFile> changed;
  std::vector<char> kept(before->size(), 0);
  for (size_t k = 0; k < now->files.size(); ++k) {
    int64_t row = now->row[k];
    if (row >= 0)
      kept[static_cast<size_t>(row)] = 1;
    if (now->same[k]) {
      ++r.unchanged;
      continue;
    }
    const DatasetFile& f = now->files[k];
    if (row < 0) {
      ++r.added;
    } else {
      const DatasetFile& old = (*before)[static_cast<size_t>(row)];
      if (old.digest == f.digest && old.mode == f.mode) {
        ++r.unchanged;
        continue;
      }
      ++r.modified;
    }
    changed.push_back(std::move(now->files[k]));
  }
  if (!changed.empty()) {
    RH_TRY(ctx.store.datasets().put_files(id, changed));
  }
  std::vector<std::string> gone;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (!kept[i])
      gone.push_back((*before)[i].path);
  }
  if (!gone.empty()) {
    RH_TRY_ASSIGN(r.removed, ctx.store.datasets().remove_paths(id, gone));
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

// Sends what the server lacks of these files' contents (a slice of a
// version's rows); `sent` counts the objects sent so far.
Status upload_files(DataContext& ctx, const std::vector<DatasetFile>& files, int64_t& sent) {
  Trace missing_trace("upload: missing");
  RH_TRY_ASSIGN(auto missing, ctx.remote.missing(unique_digests(files)));
  missing_trace.end();
  Trace send_trace("upload: send");
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& d : missing) {
    RH_TRY_ASSIGN(std::string path, ctx.cache.path_of(d));
    if (!path_exists(path)) {
      return make_error(ErrorCode::not_found,
                        "the local cache has no copy of " + d + "; add the files again");
    }
    items.emplace_back(d, path);
  }
  if (items.empty())
    return {};
  RH_TRY(ctx.remote.put_many(items));  // on several connections
  sent += static_cast<int64_t>(items.size());
  crash_point("upload:slice");  // one slice on the server, the rest not
  if (ctx.progress)
    ctx.progress("uploading", static_cast<uint64_t>(sent), 0);
  return {};
}

// The manifest's text, a JSON line per file in path order, made from the
// version's rows a slice at a time as it is read. `each` sees every slice
// first, and an empty one at the end; an error it returns ends the read.
class ManifestSource final : public ByteSource {
 public:
  using Each = std::function<Status(const std::vector<DatasetFile>&)>;
  ManifestSource(DatasetStore& ds, const std::string& id, Each each)
      : m_rows(ds, id), m_each(std::move(each)) {}

  Result<size_t> read(char* buf, size_t n) override {
    while (m_pos == m_text.size()) {
      if (m_done)
        return size_t{0};
      RH_TRY_ASSIGN(auto files, m_rows.next());
      RH_TRY(m_each(files));
      m_done = files.empty();
      m_text.clear();
      m_pos = 0;
      for (const auto& f : files)
        m_text += to_json(f).dump() + "\n";
    }
    size_t k = std::min(n, m_text.size() - m_pos);
    std::memcpy(buf, m_text.data() + m_pos, k);
    m_pos += k;
    return k;
  }

 private:
  RowSlices m_rows;
  Each m_each;
  std::string m_text;
  size_t m_pos = 0;
  bool m_done = false;
};

}  // namespace

Result<int64_t> upload(DataContext& ctx, const std::string& id) {
  if (ctx.cache_is_remote)
    return int64_t{0};  // the files went into the server's own folder when added
  // A slice of rows at a time: an interruption loses at most one slice.
  RowSlices rows(ctx.store.datasets(), id);
  int64_t sent = 0;
  while (true) {
    RH_TRY_ASSIGN(auto files, rows.next());
    if (files.empty())
      return sent;
    RH_TRY(upload_files(ctx, files, sent));
  }
}

Result<DatasetVersion> finalize(DataContext& ctx, const std::string& id, bool upload_first) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  if (v.state != DatasetState::draft)
    return make_error(ErrorCode::conflict, "dataset version " + id + " is already final");
  // One pass over the rows: each slice's contents are sent (or found on the
  // server) before its lines go into the manifest, and the manifest is
  // stored only once every slice passed.
  bool send = upload_first && !ctx.cache_is_remote;
  int64_t sent = 0, missing = 0;
  ManifestSource manifest(
      ctx.store.datasets(), id, [&](const std::vector<DatasetFile>& files) -> Status {
        if (send)  // the server confirms storing each content it lacked (and never drops one)
          return upload_files(ctx, files, sent);
        if (!files.empty()) {
          RH_TRY_ASSIGN(auto m, ctx.remote.missing(unique_digests(files)));
          missing += static_cast<int64_t>(m.size());
        } else if (missing > 0) {
          return make_error(ErrorCode::conflict,
                            std::to_string(missing) + " file content(s) of version " + id +
                                " are not on the server yet; run `rh data upload " + id +
                                "` or finalize with --upload");
        }
        return {};
      });
  RH_TRY_ASSIGN(BlobInfo stored, ctx.remote.put(manifest, ""));
  crash_point("finalize:manifest");  // the manifest stored, the row still a draft
  return ctx.store.datasets().finalize(id, stored.digest);
}

namespace {

// A cached object into a file the user may change: a copy with its mode.
Status copy_out(LocalBlobStore& cache, const DatasetFile& f, int dst_dir, const char* name,
                const std::string& shown, bool writable) {
  int in =
      ::openat(cache.dir_fd(f.digest), LocalBlobStore::object_name(f.digest), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return std::unexpected(os_err("cannot read the cached copy of", shown));
  int out = ::openat(dst_dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                     writable ? (f.mode | 0200) : (f.mode & 0555));
  if (out < 0) {
    ::close(in);
    return std::unexpected(os_err("cannot write", shown));
  }
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(in, buf, sizeof buf)) > 0) {
    if (!write_all(out, buf, static_cast<size_t>(n))) {
      ::close(in);
      ::close(out);
      return std::unexpected(os_err("cannot write", shown));
    }
  }
  ::close(in);
  ::close(out);
  return {};
}

}  // namespace

namespace {

enum : uint8_t { k_ok, k_missing, k_damaged };

// Makes the cache hold every content of `files` (one slice of a version),
// whole: each distinct content is checked once (its size, or its digest
// with `verify`); missing or damaged ones are fetched from the server and
// checked against their digest on the way in.
Status fill_cache(DataContext& ctx, const std::vector<DatasetFile>& files, bool verify,
                  GetResult& r) {
  Trace check_trace("get: check cache");
  for (const auto& f : files)
    RH_TRY(validate_digest(f.digest));  // object_name() and dir_fd() rely on it
  std::vector<size_t> unique;
  {
    std::unordered_set<std::string_view> seen;
    seen.reserve(files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      if (seen.insert(files[i].digest).second)
        unique.push_back(i);
    }
  }
  std::vector<uint8_t> state(unique.size(), k_ok);
  RH_TRY(parallel_for(unique.size(), [&](size_t k) -> Status {
    const DatasetFile& f = files[unique[k]];
    int dfd = ctx.cache.dir_fd(f.digest);
    struct stat st;
    if (dfd < 0 || ::fstatat(dfd, LocalBlobStore::object_name(f.digest), &st, 0) != 0) {
      if (errno != ENOENT)
        return std::unexpected(os_err("cannot check the cached copy of", f.path));
      state[k] = k_missing;
    } else if (static_cast<uint64_t>(st.st_size) != f.size) {
      state[k] = k_damaged;
    } else if (verify) {
      RH_TRY_ASSIGN(std::string path, ctx.cache.path_of(f.digest));
      RH_TRY_ASSIGN(std::string actual, sha256_file(path));
      if (actual != f.digest)
        state[k] = k_damaged;
    }
    return {};
  }));
  std::vector<size_t> fetch;  // indexes into files
  for (size_t k = 0; k < unique.size(); ++k) {
    const DatasetFile& f = files[unique[k]];
    if (state[k] == k_damaged) {
      r.repaired.push_back(f.digest);
      RH_TRY(ctx.cache.remove(f.digest));
      if (ctx.cache_is_remote) {
        return make_error(ErrorCode::corrupt, "the stored copy of " + f.path + " (" + f.digest +
                                                  ") is damaged and there is no other copy");
      }
    } else if (state[k] == k_missing && ctx.cache_is_remote) {
      return make_error(ErrorCode::not_found, "the content of " + f.path + " is missing");
    }
    if (state[k] != k_ok)
      fetch.push_back(unique[k]);
  }
  check_trace.end();
  if (fetch.empty())
    return {};
  Trace fetch_trace("get: fetch");
  // Small objects come many to a request (at most 1,000 objects and 32 MiB;
  // the server answers up to 64 MiB), each checked against its digest by the
  // client on the way in, and are synced once; large ones stream.
  std::vector<std::vector<std::string>> requests(1);
  std::vector<size_t> large;
  uint64_t request_bytes = 0, small_count = 0;
  for (size_t i : fetch) {
    const DatasetFile& f = files[i];
    if (f.size > static_cast<uint64_t>(k_small_file)) {
      large.push_back(i);
      continue;
    }
    if (requests.back().size() >= 1000 || request_bytes + f.size > (32u << 20)) {
      requests.emplace_back();
      request_bytes = 0;
    }
    requests.back().push_back(f.digest);
    request_bytes += f.size;
    ++small_count;
  }
  std::atomic<int64_t> downloaded{0};
  uint64_t fetched = 0;
  for (const auto& digests : requests) {
    if (digests.empty())
      continue;
    RH_TRY(
        ctx.remote.get_many(digests, [&](const std::string& d, std::string_view bytes) -> Status {
          RH_TRY(ctx.cache.put_bytes_unsynced(d, bytes));
          ++downloaded;
          if (ctx.progress && (++fetched % 256 == 0 || fetched == small_count))
            ctx.progress("downloading", fetched, small_count);
          return {};
        }));
  }
  if (small_count > 0) {
    RH_TRY(ctx.cache.sync());
  }
  RH_TRY(parallel_for(
      large.size(),
      [&](size_t k) -> Status {
        const DatasetFile& f = files[large[k]];
        // Stream from the server into a staged file; the cache checks the digest.
        auto file = AtomicFile::create(ctx.datasets_dir + "/.download", ctx.datasets_dir);
        if (!file)
          return std::unexpected(file.error());
        std::string tmp = file->temp_path();
        struct Sink : ByteSink {
          AtomicFile& f;
          explicit Sink(AtomicFile& f) : f(f) {}
          Status write(const char* d, size_t n) override { return f.write(d, n); }
        } sink(*file);
        RH_TRY(ctx.remote.get(f.digest, sink));
        RH_TRY(ctx.cache.put_file(tmp, f.digest));
        ::unlink(tmp.c_str());
        ++downloaded;
        return {};
      },
      [&](uint64_t done) {
        if (ctx.progress)
          ctx.progress("downloading", done, large.size());
      }));
  r.downloaded += downloaded;
  return {};
}

// One slice of a version's files (in path order) into the folder being
// built: its folders first (`made` is the last one a slice made), then each
// folder's files on one thread (threads working in one folder would queue on
// its lock), linked to the read-only cache or copied.
Status place_files(DataContext& ctx, const std::vector<DatasetFile>& files,
                   const std::string& tmp_dir, bool writable, std::string& made, GetResult& r) {
  Trace link_trace("get: link");
  struct Group {
    std::string dir;  // relative, "" for the top
    size_t begin, end;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < files.size(); ++i) {
    size_t slash = files[i].path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : files[i].path.substr(0, slash);
    if (groups.empty() || groups.back().dir != dir)
      groups.push_back(Group{std::move(dir), i, i + 1});
    else
      groups.back().end = i + 1;
  }
  for (const auto& g : groups) {
    if (!g.dir.empty() && g.dir != made)
      RH_TRY(make_dirs(tmp_dir + "/" + g.dir));
    made = g.dir;
  }
  std::atomic<int64_t> linked{0}, copied{0};
  RH_TRY(parallel_for(groups.size(), [&](size_t gi) -> Status {
    const Group& g = groups[gi];
    std::string dir = g.dir.empty() ? tmp_dir : tmp_dir + "/" + g.dir;
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
      return std::unexpected(os_err("cannot open", dir));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{dfd};
    for (size_t i = g.begin; i < g.end; ++i) {
      const DatasetFile& f = files[i];
      const char* name = f.path.c_str() + (g.dir.empty() ? 0 : g.dir.size() + 1);
      if (!writable) {
        if (::linkat(ctx.cache.dir_fd(f.digest), LocalBlobStore::object_name(f.digest), dfd, name,
                     0) == 0) {
          ++linked;
          continue;
        }
        if (errno != EXDEV && errno != EMLINK && errno != EPERM)
          return std::unexpected(os_err("cannot link", dir + "/" + name));
      }
      RH_TRY(copy_out(ctx.cache, f, dfd, name, dir + "/" + name, writable));
      ++copied;
    }
    return {};
  }));
  r.linked += linked;
  r.copied += copied;
  return {};
}

}  // namespace

Result<GetResult> get(DataContext& ctx, const std::string& id, const std::string& output,
                      bool writable, bool verify) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  GetResult r;
  r.dir = output.empty() ? ctx.datasets_dir + "/" + v.id : output;
  // Built beside its final place and renamed into it, a slice of rows at a
  // time (the next read while this one is placed): memory stays bounded
  // whatever the version's size.
  std::string tmp_dir = r.dir + ".partial";
  RH_TRY(remove_all(tmp_dir));
  RH_TRY(make_dirs(tmp_dir));
  RowSlices rows(ctx.store.datasets(), id);
  std::string made;
  while (true) {
    RH_TRY_ASSIGN(auto files, rows.next());
    if (files.empty())
      break;
    r.files += static_cast<int64_t>(files.size());
    RH_TRY(fill_cache(ctx, files, verify, r));
    RH_TRY(place_files(ctx, files, tmp_dir, writable, made, r));
  }
  RH_TRY(remove_all(r.dir));
  RH_TRY(rename_path(tmp_dir, r.dir));
  return r;
}

}  // namespace rh::data

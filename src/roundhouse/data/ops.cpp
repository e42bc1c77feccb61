#include "roundhouse/data/ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <malloc.h>
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
#include <unordered_set>

#include "roundhouse/data/stat_cache.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/crash_point.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/trace.h"

namespace rh::data {

RowSlices::RowSlices(DatasetStore& ds, std::string id, size_t size)
    : m_ds(ds), m_id(std::move(id)), m_size(size) {
  read_after("");
}

Result<std::vector<DatasetFile>> RowSlices::next() {
  if (!m_pending.valid())
    return std::vector<DatasetFile>{};
  auto slice = m_pending.get();
  if (slice && slice->size() == m_size)
    read_after(slice->back().path);
  return slice;
}

void RowSlices::read_after(std::string after) {
  m_pending = std::async(std::launch::async, [this, after = std::move(after)] {
    return m_ds.files(m_id, after, static_cast<int>(m_size));
  });
}

Result<const DatasetFile*> RowCursor::head() {
  while (!m_done && m_i == m_slice.size()) {
    RH_TRY_ASSIGN(m_slice, m_rows.next());
    m_i = 0;
    m_done = m_slice.empty();
  }
  return m_done ? nullptr : &m_slice[m_i];
}

namespace {

// A file a walk found: its dataset path, its stat, and where its content is
// read: <dir>/<name> (the name being the last part of `rel`; `dir` is shared
// by a folder's files), or `target` (a symlink's target, a file given by
// itself).
struct Found {
  std::string rel;
  std::shared_ptr<const std::string> dir;
  std::string target;
  FileStat st;

  std::string source() const {
    if (!target.empty())
      return target;
    size_t slash = rel.rfind('/');
    return *dir + "/" + (slash == std::string::npos ? rel : rel.substr(slash + 1));
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

// A folder to scan, and once scanned its entries in the order the walk
// emits them: byte order of whole paths, which within one folder is the
// order of the names with a '/' after each subfolder's (as git orders trees).
struct ScanJob;
struct Entry {
  std::string key;  // the name; a subfolder's ends with '/'
  Found file;       // when not a subfolder
  std::shared_ptr<ScanJob> sub;
};
struct ScanJob {
  std::string path, rel;  // on disk; in the dataset
  std::vector<Entry> entries;
  Status status;
  bool started = false, done = false;
};

// Scans the folders under one folder argument on every core, ahead of the
// walk that takes them: the folders it needs soonest (smallest path) first,
// and at most `ahead` scanned and not yet taken, so memory stays bounded by
// a few folders' entries whatever the tree's size. Entries are stat'ed
// relative to the folder's descriptor, sparing the kernel a walk of the
// whole path per file.
class FolderScanner {
 public:
  FolderScanner(std::string root_real, std::string wildcard, size_t ahead = 32)
      : m_root_real(std::move(root_real)), m_wildcard(std::move(wildcard)), m_ahead(ahead) {
    unsigned n = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
    for (unsigned i = 0; i < n; ++i)
      m_workers.emplace_back([this] { work(); });
  }
  ~FolderScanner() {
    {
      std::lock_guard lk(m_mu);
      m_stop = true;
    }
    m_work_cv.notify_all();
    for (auto& t : m_workers)
      t.join();
  }
  FolderScanner(const FolderScanner&) = delete;
  FolderScanner& operator=(const FolderScanner&) = delete;

  std::shared_ptr<ScanJob> submit(std::string path, std::string rel) {
    auto job = std::make_shared<ScanJob>();
    job->path = std::move(path);
    job->rel = std::move(rel);
    {
      std::lock_guard lk(m_mu);
      m_queued.emplace(job->rel + "/", job);
    }
    m_work_cv.notify_one();
    return job;
  }

  // The folder's entries, scanned here when no worker has started on it.
  Status take(ScanJob& job) {
    std::unique_lock lk(m_mu);
    if (!job.started) {
      job.started = true;
      m_queued.erase(job.rel + "/");
      lk.unlock();
      scan(job);
      return job.status;
    }
    m_done_cv.wait(lk, [&] { return job.done; });
    --m_in_hand;
    lk.unlock();
    m_work_cv.notify_one();
    return job.status;
  }

 private:
  void work() {
    std::unique_lock lk(m_mu);
    while (true) {
      m_work_cv.wait(lk, [&] { return m_stop || (!m_queued.empty() && m_in_hand < m_ahead); });
      if (m_stop)
        return;
      auto job = m_queued.begin()->second;
      m_queued.erase(m_queued.begin());
      job->started = true;
      ++m_in_hand;
      lk.unlock();
      scan(*job);
      lk.lock();
      job->done = true;
      m_done_cv.notify_all();
    }
  }

  void scan(ScanJob& job) {
    job.status = scan_folder(job);
    if (!job.status)
      job.entries.clear();
  }

  // A folder's files (symlinks resolved, which must stay inside the
  // argument's folder) and subfolders (queued for their own scan).
  Status scan_folder(ScanJob& job) {
    int dfd = ::open(job.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = dfd < 0 ? nullptr : ::fdopendir(dfd);
    if (!d) {
      if (dfd >= 0)
        ::close(dfd);
      return std::unexpected(os_err("cannot read folder", job.path));
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
    auto dir = std::make_shared<const std::string>(job.path);
    const std::string& wildcard = m_wildcard;
    auto matches = [&](const std::string& n) {
      return wildcard.empty() || ::fnmatch(wildcard.c_str(), n.c_str(), 0) == 0;
    };
    job.entries.reserve(names.size());
    for (auto& n : names) {
      std::string rel = job.rel.empty() ? n : job.rel + "/" + n;
      struct stat st;
      if (::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return std::unexpected(os_err("cannot stat", job.path + "/" + n));
      if (S_ISDIR(st.st_mode)) {
        job.entries.push_back(Entry{n + "/", {}, nullptr});
        continue;
      }
      if (S_ISREG(st.st_mode)) {
        if (matches(n))
          job.entries.push_back(
              Entry{n, Found{std::move(rel), dir, {}, FileStat::of(st)}, nullptr});
        continue;
      }
      if (!S_ISLNK(st.st_mode))
        continue;  // sockets, FIFOs, devices: not data
      std::string path = job.path + "/" + n;
      std::string target = real_path(path);
      if (target.empty())
        return make_error(ErrorCode::invalid_argument, "symlink " + path + " is broken");
      if (!inside(target, m_root_real)) {
        return make_error(ErrorCode::invalid_argument, "symlink " + path + " points to " + target +
                                                           ", outside " + m_root_real +
                                                           " (add that file itself)");
      }
      if (::stat(target.c_str(), &st) != 0)
        return std::unexpected(os_err("cannot stat", target));
      // A link to a folder inside: its files are added under their own path.
      if (S_ISREG(st.st_mode) && matches(n)) {
        job.entries.push_back(
            Entry{n, Found{std::move(rel), dir, std::move(target), FileStat::of(st)}, nullptr});
      }
    }
    std::sort(job.entries.begin(), job.entries.end(),
              [](const Entry& a, const Entry& b) { return a.key < b.key; });
    // Queued in the walk's order, so the workers start on what it needs first.
    for (auto& e : job.entries) {
      if (e.key.back() == '/') {
        std::string name = e.key.substr(0, e.key.size() - 1);
        e.sub = submit(job.path + "/" + name, job.rel.empty() ? name : job.rel + "/" + name);
      }
    }
    return {};
  }

  std::string m_root_real, m_wildcard;
  size_t m_ahead;
  std::mutex m_mu;
  std::condition_variable m_work_cv, m_done_cv;
  std::map<std::string, std::shared_ptr<ScanJob>> m_queued;  // by path + '/'
  size_t m_in_hand = 0;  // scanned or being scanned by workers, not yet taken
  bool m_stop = false;
  std::vector<std::thread> m_workers;  // last: stopped first
};

// The files of one argument (a folder, or a file) in dataset-path order.
class ArgWalk {
 public:
  ArgWalk(const std::string& dir, const std::string& rel, const std::string& wildcard)
      : m_scanner(std::make_unique<FolderScanner>(real_path(dir), wildcard)),
        m_root(m_scanner->submit(dir, rel)) {}
  explicit ArgWalk(Found file) : m_single(std::move(file)) {}

  // The next file, or nothing at the end.
  Result<std::optional<Found>> next() {
    if (m_root) {
      RH_TRY(m_scanner->take(*m_root));
      m_stack.push_back(Frame{std::move(m_root), 0});
    }
    while (!m_stack.empty()) {
      Frame& top = m_stack.back();
      if (top.i == top.job->entries.size()) {
        m_stack.pop_back();
        continue;
      }
      Entry& e = top.job->entries[top.i++];
      if (!e.sub)
        return std::optional<Found>(std::move(e.file));
      std::shared_ptr<ScanJob> sub = std::move(e.sub);
      RH_TRY(m_scanner->take(*sub));
      m_stack.push_back(Frame{std::move(sub), 0});
    }
    std::optional<Found> out = std::move(m_single);
    m_single.reset();
    return out;
  }

 private:
  struct Frame {
    std::shared_ptr<ScanJob> job;
    size_t i;
  };
  std::unique_ptr<FolderScanner> m_scanner;
  std::shared_ptr<ScanJob> m_root;  // until the first next()
  std::vector<Frame> m_stack;       // the folders open on the way down
  std::optional<Found> m_single;
};

// The files under an add's arguments in dataset-path order, one per path
// (when two arguments give the same path, the later one's), a slice at a
// time.
class Walker {
 public:
  static Result<std::unique_ptr<Walker>> open(const std::vector<std::string>& paths,
                                              const AddOptions& opt);

  // Up to `max` more files into `out`; none at the end.
  Status next(std::vector<Found>& out, size_t max) {
    out.clear();
    while (out.size() < max) {
      int best = -1;
      for (size_t i = 0; i < m_heads.size(); ++i) {
        if (m_heads[i] && (best < 0 || m_heads[i]->rel <= m_heads[best]->rel))
          best = static_cast<int>(i);
      }
      if (best < 0)
        break;
      for (size_t i = 0; i < m_heads.size(); ++i) {
        if (static_cast<int>(i) != best && m_heads[i] && m_heads[i]->rel == m_heads[best]->rel)
          RH_TRY(advance(i));  // an earlier argument's file at the same path
      }
      out.push_back(std::move(*m_heads[best]));
      RH_TRY(advance(static_cast<size_t>(best)));
    }
    return {};
  }

 private:
  Status advance(size_t i) {
    RH_TRY_ASSIGN(m_heads[i], m_args[i]->next());
    return {};
  }
  std::vector<std::unique_ptr<ArgWalk>> m_args;
  std::vector<std::optional<Found>> m_heads;
};

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

namespace {

Result<std::unique_ptr<Walker>> Walker::open(const std::vector<std::string>& paths,
                                             const AddOptions& opt) {
  if (paths.empty())
    return make_error(ErrorCode::invalid_argument, "give at least one file or folder to add");
  auto w = std::make_unique<Walker>();
  std::string prefix = join_path(opt.dataset_path, "");
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  for (const auto& p : paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0)
      return make_error(ErrorCode::not_found, "cannot add " + p + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      w->m_args.push_back(std::make_unique<ArgWalk>(p, prefix, opt.wildcard));
    } else if (S_ISREG(st.st_mode)) {
      std::string name = basename_of(p);
      if (!opt.wildcard.empty() && ::fnmatch(opt.wildcard.c_str(), name.c_str(), 0) != 0)
        continue;
      w->m_args.push_back(std::make_unique<ArgWalk>(
          Found{join_path(opt.dataset_path, name), {}, p, FileStat::of(st)}));
    } else {
      return make_error(ErrorCode::invalid_argument, "cannot add " + p + ": not a file or folder");
    }
  }
  w->m_heads.resize(w->m_args.size());
  for (size_t i = 0; i < w->m_args.size(); ++i)
    RH_TRY(w->advance(i));
  return w;
}

// Rows waiting to be written, kept in an unnamed file rather than in memory
// (it vanishes with the process, however that ends).
class RowSpill {
 public:
  RowSpill() = default;
  RowSpill(const RowSpill&) = delete;
  RowSpill& operator=(const RowSpill&) = delete;
  ~RowSpill() {
    if (m_fd >= 0)
      ::close(m_fd);
  }

  Status open(const std::string& dir) {
    m_fd = open_unnamed_file(dir);
    if (m_fd < 0)
      return std::unexpected(os_err("cannot create a file in", dir));
    return {};
  }

  bool empty() const { return m_count == 0; }

  Status put(const DatasetFile& f) {
    ++m_count;
    m_buf += 'p';
    add(f.path);
    add(f.digest);
    add(f.size);
    add(uint64_t{f.mode});
    return flush_if_full();
  }
  Status gone(const std::string& path) {
    ++m_count;
    m_buf += 'g';
    add(path);
    return flush_if_full();
  }

  // From the start again, for reading.
  Status rewind() {
    RH_TRY(flush());
    if (::lseek(m_fd, 0, SEEK_SET) != 0)
      return std::unexpected(os_err("cannot read back", "the rows to write"));
    m_pos = 0;
    return {};
  }

  // Up to `max` more changes; false at the end.
  Result<bool> next(FileChanges& c, size_t max) {
    c.put.clear();
    c.gone.clear();
    while (c.put.size() + c.gone.size() < max) {
      RH_TRY_ASSIGN(bool more, need(1));
      if (!more)
        break;
      char kind = m_buf[m_pos++];
      if (kind == 'p') {
        DatasetFile f;
        uint64_t mode = 0;
        RH_TRY(take(f.path));
        RH_TRY(take(f.digest));
        RH_TRY(take(f.size));
        RH_TRY(take(mode));
        f.mode = static_cast<uint32_t>(mode);
        c.put.push_back(std::move(f));
      } else {
        std::string p;
        RH_TRY(take(p));
        c.gone.push_back(std::move(p));
      }
    }
    return !(c.put.empty() && c.gone.empty());
  }

 private:
  void add(uint64_t v) { m_buf.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void add(const std::string& s) {
    add(uint64_t{s.size()});
    m_buf += s;
  }
  Status flush_if_full() { return m_buf.size() >= (1u << 20) ? flush() : Status{}; }
  Status flush() {
    if (!write_all(m_fd, m_buf.data(), m_buf.size()))
      return std::unexpected(os_err("cannot write", "the rows to write"));
    m_buf.clear();
    return {};
  }
  // At least n unread bytes in the buffer; false at the end of the file.
  Result<bool> need(size_t n) {
    while (m_buf.size() - m_pos < n) {
      m_buf.erase(0, m_pos);
      m_pos = 0;
      size_t had = m_buf.size();
      m_buf.resize(had + (1u << 20));
      ssize_t got = read_full(m_fd, m_buf.data() + had, 1u << 20);
      if (got < 0)
        return std::unexpected(os_err("cannot read back", "the rows to write"));
      m_buf.resize(had + static_cast<size_t>(got));
      if (got == 0) {
        if (m_buf.empty())
          return false;
        return make_error(ErrorCode::corrupt, "the rows to write end in the middle of one");
      }
    }
    return true;
  }
  Status take(uint64_t& v) {
    RH_TRY(need(sizeof v));
    std::memcpy(&v, m_buf.data() + m_pos, sizeof v);
    m_pos += sizeof v;
    return {};
  }
  Status take(std::string& s) {
    uint64_t n = 0;
    RH_TRY(take(n));
    RH_TRY(need(n));
    s.assign(m_buf, m_pos, n);
    m_pos += n;
    return {};
  }

  int m_fd = -1;
  std::string m_buf;
  size_t m_pos = 0;
  int64_t m_count = 0;  // changes written
};

// The last update of a progress line (done == total ends it); none for
// nothing done.
void progress_done(DataContext& ctx, const char* label, int64_t n) {
  if (ctx.progress && n > 0)
    ctx.progress(label, static_cast<uint64_t>(n), static_cast<uint64_t>(n));
}

constexpr size_t k_walk_slice = 16000;  // files an add or a sync holds at once

// What scan() counted.
struct Tally {
  int64_t files = 0, added = 0, modified = 0, unchanged = 0;
};

// Walks `paths` a slice of files at a time, stores the contents the cache
// lacks (hashing on every core; files the stat cache knows are not read)
// and spills the rows to write: every file's (add), or with `known` (the
// version's rows, in path order: sync) the new and changed files' and the
// paths that went. Every new object is durable before this returns.
Result<Tally> scan(DataContext& ctx, const std::vector<std::string>& paths, const AddOptions& opt,
                   RowCursor* known, RowSpill& spill) {
  // Buffers of 256 KiB and more come from their own mappings and go back
  // whole when freed; glibc would otherwise raise this bound as they are
  // freed and carve them from a heap that only grows.
  ::mallopt(M_MMAP_THRESHOLD, 256 << 10);
  RH_TRY_ASSIGN(auto walker, Walker::open(paths, opt));
  Trace load_trace("scan: stat cache load");
  StatCache stat_cache(ctx.stat_cache_path);
  load_trace.end();
  // The version's rows, met in path order.
  auto row_head = [&]() -> Result<const DatasetFile*> {
    if (!known)
      return nullptr;
    return known->head();
  };
  struct Row {  // a file's row in the version, if it has one
    std::string digest;
    uint32_t mode = 0;
    bool exists = false;
  };
  std::vector<Found> found;
  std::vector<DatasetFile> files;
  std::vector<Row> had;
  Tally t;
  std::atomic<int64_t> hashed{0};
  while (true) {
    Trace walk_trace("scan: walk");
    RH_TRY(walker->next(found, k_walk_slice));
    walk_trace.end();
    if (found.empty())
      break;
    files.assign(found.size(), DatasetFile{});
    had.assign(found.size(), Row{});
    for (size_t k = 0; k < found.size(); ++k) {
      files[k].path = found[k].rel;
      files[k].size = static_cast<uint64_t>(found[k].st.size);
      files[k].mode = found[k].st.mode & 0777;
      while (true) {
        RH_TRY_ASSIGN(const DatasetFile* r, row_head());
        if (!r || r->path > files[k].path)
          break;
        if (r->path == files[k].path)
          had[k] = Row{r->digest, r->mode, true};
        else
          RH_TRY(spill.gone(r->path));  // the folder no longer has it
        known->pop();
      }
    }
    auto put_one = [&](size_t k) -> Status {
      const Found& f = found[k];
      DatasetFile& d = files[k];
      Sha256Bytes sha;
      if (stat_cache.lookup(f.st, sha)) {
        if (had[k].exists) {  // the version has this content at this path: nothing to store
          auto recorded = Digest::parse(had[k].digest);
          if (recorded && recorded->bytes() == sha) {
            d.digest = had[k].digest;
            return {};
          }
        }
        std::string digest = Digest(sha).text();
        auto cached = ctx.cache.stat(digest);
        if (cached && *cached == d.size) {
          d.digest = std::move(digest);
          return {};
        }
      }
      ++hashed;
      std::string abs = f.source();
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
    Trace hash_trace("scan: hash and store");
    uint64_t before = static_cast<uint64_t>(t.files);
    RH_TRY(parallel_for(found.size(), put_one, [&](uint64_t done) {
      if (ctx.progress)
        ctx.progress("hashing", before + done, 0);
    }));
    hash_trace.end();
    stat_cache.release();  // the mapped pages this slice's lookups touched
    ::malloc_trim(0);      // and the heap pages this slice freed, which glibc keeps otherwise
    for (size_t k = 0; k < files.size(); ++k) {
      ++t.files;
      if (known) {
        if (had[k].exists && had[k].digest == files[k].digest && had[k].mode == files[k].mode) {
          ++t.unchanged;
          continue;
        }
        ++(had[k].exists ? t.modified : t.added);
      }
      RH_TRY(spill.put(files[k]));
    }
  }
  progress_done(ctx, "hashing", t.files);
  while (true) {  // rows after the last file: gone too
    RH_TRY_ASSIGN(const DatasetFile* r, row_head());
    if (!r)
      break;
    RH_TRY(spill.gone(r->path));
    known->pop();
  }
  ctx.hashed = hashed;
  if (hashed > 0) {
    Trace sync_trace("scan: sync");
    RH_TRY(ctx.cache.sync());  // every new object durable before any row points to it
  }
  Trace save_trace("scan: stat cache save");
  stat_cache.save();
  return t;
}

// Writes what a scan spilled, in one write where the store allows; returns
// how many paths went.
Result<int64_t> write_rows(DataContext& ctx, const std::string& id, RowSpill& spill) {
  if (spill.empty())
    return int64_t{0};  // nothing changed: no write at all
  Trace t("write rows");
  RH_TRY(spill.rewind());
  return ctx.store.datasets().change_files(
      id, [&](FileChanges& c) -> Result<bool> { return spill.next(c, k_walk_slice); });
}

Status require_draft(DataContext& ctx, const std::string& id) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  if (v.state != DatasetState::draft) {
    return make_error(ErrorCode::conflict,
                      "dataset version " + id + " is final; create a new version to change it");
  }
  return {};
}

}  // namespace

Result<int64_t> add(DataContext& ctx, const std::string& id, const std::vector<std::string>& paths,
                    const AddOptions& opt) {
  RH_TRY(require_draft(ctx, id));
  RowSpill spill;
  RH_TRY(spill.open(ctx.datasets_dir));
  RH_TRY_ASSIGN(Tally t, scan(ctx, paths, opt, nullptr, spill));
  crash_point("add:stored");  // contents in the cache, no row yet
  RH_TRY(write_rows(ctx, id, spill));
  return t.files;
}

Result<SyncResult> sync(DataContext& ctx, const std::string& id, const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(ErrorCode::invalid_argument, "rh data sync needs a folder, got " + dir);
  RH_TRY(require_draft(ctx, id));
  RowSpill spill;
  RH_TRY(spill.open(ctx.datasets_dir));
  RowCursor rows(ctx.store.datasets(), id);  // read while the folder is walked
  RH_TRY_ASSIGN(Tally t, scan(ctx, {dir}, AddOptions{}, &rows, spill));
  SyncResult r;
  r.added = t.added;
  r.modified = t.modified;
  r.unchanged = t.unchanged;
  RH_TRY_ASSIGN(r.removed, write_rows(ctx, id, spill));
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
    if (files.empty()) {
      progress_done(ctx, "uploading", sent);
      return sent;
    }
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
          // Files, not contents: a content two slices share is counted once a file.
          RH_TRY_ASSIGN(auto m, ctx.remote.missing(unique_digests(files)));
          std::unordered_set<std::string> absent(m.begin(), m.end());
          for (const auto& f : files)
            missing += static_cast<int64_t>(absent.count(f.digest));
        } else if (missing > 0) {
          return make_error(ErrorCode::conflict,
                            std::to_string(missing) + " file(s) of version " + id +
                                " have contents not on the server yet; run `rh data upload " + id +
                                "` or finalize with --upload");
        }
        return {};
      });
  RH_TRY_ASSIGN(BlobInfo stored, ctx.remote.put(manifest, ""));
  progress_done(ctx, "uploading", sent);
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
  for (const auto& f : files) {
    RH_TRY(validate_digest(f.digest));  // object_name() and dir_fd() rely on it
    // The rows come from the server: a path that leaves the target is refused
    // before anything is written.
    RH_TRY(validate_relative_path("dataset path", f.path));
  }
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
            ctx.progress("downloading", static_cast<uint64_t>(r.downloaded) + fetched, 0);
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
          AtomicFile& out;
          explicit Sink(AtomicFile& file) : out(file) {}
          Status write(const char* d, size_t n) override { return out.write(d, n); }
        } sink(*file);
        RH_TRY(ctx.remote.get(f.digest, sink));
        RH_TRY(ctx.cache.put_file(tmp, f.digest));
        ::unlink(tmp.c_str());
        ++downloaded;
        return {};
      },
      [&](uint64_t done) {
        if (ctx.progress)
          ctx.progress("downloading", static_cast<uint64_t>(r.downloaded) + small_count + done, 0);
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
  progress_done(ctx, "downloading", r.downloaded);
  RH_TRY(remove_all(r.dir));
  RH_TRY(rename_path(tmp_dir, r.dir));
  return r;
}

}  // namespace rh::data

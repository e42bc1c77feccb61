#include "roundhouse/data/walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>
#include <thread>

#include "roundhouse/data/os_error.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"

namespace rh::data {

namespace {

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

}  // namespace

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

Walker::Walker() = default;
Walker::~Walker() = default;

Status Walker::next(std::vector<Found>& out, size_t max) {
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

Status Walker::advance(size_t i) {
  RH_TRY_ASSIGN(m_heads[i], m_args[i]->next());
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

}  // namespace rh::data

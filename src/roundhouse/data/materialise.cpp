// Get: a version materialised in a folder (hard links to the read-only
// cache, or copies), the cache filled and checked first; declared in data/ops.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_set>

#include "roundhouse/data/ops.h"
#include "roundhouse/data/os_error.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/trace.h"

namespace rh::data {

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

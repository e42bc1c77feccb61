#include "roundhouse/data/hash_store.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>

#include "roundhouse/data/os_error.h"
#include "roundhouse/data/stat_cache.h"
#include "roundhouse/data/walk.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/crash_point.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/trace.h"

namespace rh::data {

namespace {

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

}  // namespace rh::data

// What every dataset operation on this machine works with (DataContext),
// the options of an add, and the progress line they report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::data {

struct DataContext {
  MetadataStore& store;
  BlobStore& remote;      // where a final version's files must be
  LocalBlobStore& cache;  // local read-only copies (the same folder as remote when embedded)
  bool cache_is_remote = false;
  std::string stat_cache_path;  // data/stat_cache.h: (device, inode, size, mtime) -> digest
  std::string datasets_dir;     // default place for `get` copies
  // Called with a label ("hashing", "uploading", "downloading") and progress.
  std::function<void(const std::string&, uint64_t done, uint64_t total)> progress;
  int64_t hashed = 0;  // files read and hashed by the last add or sync (the rest: stat cache)
};

struct AddOptions {
  std::string dataset_path;  // folder inside the dataset to put the files under
  std::string wildcard;      // only files whose name matches (fnmatch)
};

// Files up to this size are read (and fetched) whole, in memory.
constexpr int64_t k_small_file = 1 << 20;

// The last update of a progress line (done == total ends it); none for
// nothing done.
inline void progress_done(DataContext& ctx, const char* label, int64_t n) {
  if (ctx.progress && n > 0)
    ctx.progress(label, static_cast<uint64_t>(n), static_cast<uint64_t>(n));
}

}  // namespace rh::data

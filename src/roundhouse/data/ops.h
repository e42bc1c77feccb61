// Dataset operations on this machine: hashing files into the local cache
// (parallel, with a stat cache so unchanged files are never hashed twice),
// uploading what the server lacks, finalizing (blobs -> manifest -> row) and
// materialising a version as hard links to the read-only cache.
#pragma once

#include <functional>
#include <future>
#include <string>
#include <vector>

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

// Adds the files under `paths` to a draft, their contents in the cache.
// A folder's files keep their paths relative to it; a file is put by its name.
// Symlinks are followed when they stay inside the folder being added and
// refused otherwise; unreadable files are errors that name the file. One file
// per path (a later argument wins). All rows are written in one write, after
// every content is durable in the cache: a failure adds nothing. Works a
// slice of files at a time, so memory stays bounded whatever their number.
Result<int64_t> add(DataContext& ctx, const std::string& id, const std::vector<std::string>& paths,
                    const AddOptions& opt);

struct SyncResult {
  int64_t added = 0, modified = 0, removed = 0, unchanged = 0;
};
// Makes the draft mirror `dir`: new files added, changed ones replaced, missing ones removed.
Result<SyncResult> sync(DataContext& ctx, const std::string& id, const std::string& dir);

// Sends the version's files the server lacks; returns how many were sent.
// Rerun after an interruption, it sends only what is still missing.
Result<int64_t> upload(DataContext& ctx, const std::string& id);

// Blobs, then the manifest, then the row. Refuses while files are missing on
// the server (upload first, or pass upload = true).
Result<DatasetVersion> finalize(DataContext& ctx, const std::string& id, bool upload_first);

// Materialises a version in `output` (default <datasets_dir>/<id>): hard
// links to the read-only cache (copies across file systems), or writable
// copies with `writable`. Missing cache objects are downloaded and verified.
// A cached object whose size is wrong, or whose content is wrong when
// `verify`, is fetched again and reported in `repaired`.
struct GetResult {
  std::string dir;
  int64_t files = 0, downloaded = 0, linked = 0, copied = 0;
  std::vector<std::string> repaired;
};
Result<GetResult> get(DataContext& ctx, const std::string& id, const std::string& output,
                      bool writable, bool verify);

// A version's rows in path order, a slice at a time; the next slice is read
// while the caller works on this one, so an operation holds two slices of
// rows at most, whatever the version's size.
class RowSlices {
 public:
  static constexpr size_t k_rows = 16000;  // rows a slice holds unless told
  RowSlices(DatasetStore& ds, std::string id, size_t size = k_rows);
  RowSlices(const RowSlices&) = delete;
  RowSlices& operator=(const RowSlices&) = delete;
  // The next slice; empty after the last.
  Result<std::vector<DatasetFile>> next();

 private:
  void read_after(std::string after);
  DatasetStore& m_ds;
  std::string m_id;
  size_t m_size;
  std::future<Result<std::vector<DatasetFile>>> m_pending;  // last: joined first
};

// A version's rows one at a time (over RowSlices), for merges in path order.
class RowCursor {
 public:
  RowCursor(DatasetStore& ds, std::string id) : m_rows(ds, std::move(id)) {}
  // The current row, or null after the last.
  Result<const DatasetFile*> head();
  void pop() { ++m_i; }

 private:
  RowSlices m_rows;
  std::vector<DatasetFile> m_slice;
  size_t m_i = 0;
  bool m_done = false;
};

}  // namespace rh::data

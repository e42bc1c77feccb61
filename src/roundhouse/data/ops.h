// Dataset operations on this machine: hashing files into the local cache
// (parallel, with a stat cache so unchanged files are never hashed twice),
// uploading what the server lacks, finalizing (blobs -> manifest -> row) and
// materialising a version as hard links to the read-only cache. The parts:
// walk (the files under the arguments, in path order), row_spill (rows
// waiting to be written), hash_store (contents into the cache), ops.cpp
// (add and sync), transfer (upload, finalize), materialise (get).
#pragma once

#include <string>
#include <vector>

#include "roundhouse/data/context.h"
#include "roundhouse/data/row_slices.h"

namespace rh::data {

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

}  // namespace rh::data

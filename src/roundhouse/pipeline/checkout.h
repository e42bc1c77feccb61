// Putting cached content back into the workspace: what a lock entry or a
// tracked data file names, from a cache with DVC 3's layout (dvc_cache.h).
// Each file becomes a read-only hard link to its object, or a copy
// (writable, 0644; a block clone where the file system can) where linking
// fails (another file system), when asked (outs a command may change in
// place: persist), and always for root, whom a read-only mode does not stop
// from writing through the link into the cache. A folder gets exactly the
// files its listing names; anything else in it is removed. What already
// holds the right content is left as it is.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/pipeline/lock.h"

namespace rh::pipeline {

class HashCache;

struct ListedFile {
  std::string relpath, md5;
};
// A folder's listing from the cache (corrupt when it is not one; not_found
// when the cache lacks it). Paths are checked: none absolute or with "..".
Result<std::vector<ListedFile>> read_listing(const std::string& cache_root,
                                             const std::string& dir_md5);

// The objects the entry needs (its own md5, and a folder's files'), when
// the cache holds its listing; a folder whose listing is missing gives just
// its own md5 (the listing comes first, then what it names).
Result<std::vector<std::string>> needed_objects(const std::string& cache_root,
                                                const LockedPath& lp);

// Whether the cache holds every object the entry needs (its listing and,
// for a folder, every file the listing names). False for an entry without
// a content hash or of DVC 2.
bool in_cache(const std::string& cache_root, const LockedPath& lp);

enum class CheckoutChange { unchanged, added, modified };

// Puts lp's content at `dst` (absolute). not_found, naming lp.path, when the
// cache lacks an object: nothing at dst is changed then. DVC 2 entries
// (legacy text hashes) are refused: their cache is not this layout.
Result<CheckoutChange> checkout_entry(const std::string& cache_root, const LockedPath& lp,
                                      const std::string& dst, HashCache* hashes, bool copy);

}  // namespace rh::pipeline

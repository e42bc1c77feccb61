#include "roundhouse/pipeline/dvc_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "roundhouse/hash/md5.h"
#include "roundhouse/pipeline/hash_cache.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

std::string object_path(const std::string& cache_root, const std::string& md5) {
  return cache_root + "/files/md5/" + md5.substr(0, 2) + "/" + md5.substr(2);
}

namespace {

// Reads the file once: its digests, and a copy into a temporary file of the
// cache, moved under its md5 when the cache lacks it.
Result<FileDigests> hash_and_copy(const std::string& src, const std::string& cache_root,
                                  bool sync) {
  std::string tmp_dir = cache_root + "/files/md5";
  RH_TRY(make_dirs(tmp_dir));
  RH_TRY_ASSIGN(AtomicFile out, AtomicFile::create(tmp_dir + "/.incoming", tmp_dir));
  RH_TRY_ASSIGN(FileDigests d, md5_sha256_file(src, [&](const char* data, size_t n) {
                  return out.write(data, n);
                }));
  std::string target = object_path(cache_root, d.md5);
  RH_TRY(make_dirs(dirname_of(target)));
  RH_TRY(out.commit_to(target, /*keep_existing=*/true, sync));
  ::chmod(target.c_str(), 0444);
  return d;
}

}  // namespace

Result<ContentHash> hash_into_cache(const std::string& path, const std::string& cache_root,
                                    HashCache* hashes) {
  std::error_code ec;
  bool many = fs::is_directory(path, ec);
  RH_TRY_ASSIGN(
      ContentHash h,
      hash_with(path, [&](const std::string& p, const struct stat& st) -> Result<FileDigests> {
        RH_TRY_ASSIGN(FileDigests d, hash_and_copy(p, cache_root, !many));
        if (hashes)
          hashes->remember_fresh(st, d);
        return d;
      }));
  // A folder's objects are made durable at once (an fsync each would
  // dominate); a lone file's fsync costs less than flushing the file system.
  if (!h.dir)
    return h;
  RH_TRY(sync_file_system(cache_root));
  std::string listing = dir_listing(h.files);
  std::string target = object_path(cache_root, h.md5);
  if (!path_exists(target)) {
    RH_TRY(make_dirs(dirname_of(target)));
    RH_TRY(write_file_atomic(target, listing));
    ::chmod(target.c_str(), 0444);
  }
  return h;
}

}  // namespace rh::pipeline

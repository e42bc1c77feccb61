#include "roundhouse/pipeline/dvc_cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "roundhouse/hash/md5.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/pipeline/hash_cache.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

std::string object_path(const std::string& cache_root, const std::string& md5) {
  return cache_root + "/files/md5/" + md5.substr(0, 2) + "/" + md5.substr(2);
}

// Reads the file once: its digests, and a copy into a temporary file of the
// cache, moved under its md5 when the cache lacks it.
Result<FileDigests> hash_and_copy(const std::string& src, const std::string& cache_root) {
  int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::io, "cannot open " + src + ": " + std::strerror(errno));
  std::string tmp_dir = cache_root + "/files/md5";
  RH_TRY(make_dirs(tmp_dir));
  auto out = AtomicFile::create(tmp_dir + "/.incoming", tmp_dir);
  if (!out) {
    ::close(fd);
    return std::unexpected(out.error());
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  Sha256 sha;
  FileDigests d;
  std::string buf(1 << 20, '\0');
  Status st;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      st = make_error(ErrorCode::io, "cannot read " + src + ": " + std::strerror(errno));
      break;
    }
    if (n == 0)
      break;
    EVP_DigestUpdate(ctx, buf.data(), size_t(n));
    sha.update(buf.data(), size_t(n));
    d.size += uint64_t(n);
    if (st = out->write(buf.data(), size_t(n)); !st)
      break;
  }
  ::close(fd);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  RH_TRY(st);
  d.md5 = to_hex(md, len);
  d.sha256 = sha.finish();
  std::string target = object_path(cache_root, d.md5);
  RH_TRY(make_dirs(dirname_of(target)));
  RH_TRY(out->commit_to(target, /*keep_existing=*/true));
  ::chmod(target.c_str(), 0444);
  return d;
}

}  // namespace

Result<ContentHash> hash_into_cache(const std::string& path, const std::string& cache_root,
                                    HashCache* hashes) {
  RH_TRY_ASSIGN(
      ContentHash h,
      hash_with(path, [&](const std::string& p, const struct stat& st) -> Result<FileDigests> {
        RH_TRY_ASSIGN(FileDigests d, hash_and_copy(p, cache_root));
        if (hashes)
          hashes->remember_fresh(st, d);
        return d;
      }));
  if (!h.dir)
    return h;
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

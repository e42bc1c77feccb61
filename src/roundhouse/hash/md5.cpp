#include "roundhouse/hash/md5.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/strings.h"

namespace rh {

namespace {

std::string md5_finish(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  return to_hex(md, len);
}

}  // namespace

std::string md5_hex(std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, data.data(), data.size());
  std::string out = md5_finish(ctx);
  EVP_MD_CTX_free(ctx);
  return out;
}

Result<FileDigests> md5_sha256_file(const std::string& path,
                                    const std::function<Status(const char*, size_t)>& also) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::io, "cannot open " + path + ": " + std::strerror(errno));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  Sha256 sha;
  FileDigests out;
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      EVP_MD_CTX_free(ctx);
      return make_error(ErrorCode::io, "cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0)
      break;
    EVP_DigestUpdate(ctx, buf.data(), size_t(n));
    sha.update(buf.data(), size_t(n));
    out.size += uint64_t(n);
    if (also) {
      if (auto st = also(buf.data(), size_t(n)); !st) {
        ::close(fd);
        EVP_MD_CTX_free(ctx);
        return std::unexpected(st.error());
      }
    }
  }
  ::close(fd);
  out.md5 = md5_finish(ctx);
  EVP_MD_CTX_free(ctx);
  out.sha256 = sha.finish();
  return out;
}

}  // namespace rh

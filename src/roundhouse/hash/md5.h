// MD5 (OpenSSL), for DVC's content hashes, computed in the same read as
// the SHA-256 the blob store names content by.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "roundhouse/util/error.h"

namespace rh {

std::string md5_hex(std::string_view data);

struct FileDigests {
  std::string md5;     // 32 hex
  std::string sha256;  // "sha256:<hex>"
  uint64_t size = 0;
};

// Both digests of the file's bytes, in one pass; `also` (when given) gets
// every piece read too (to copy the file in the same read).
Result<FileDigests> md5_sha256_file(const std::string& path,
                                    const std::function<Status(const char*, size_t)>& also = {});

}  // namespace rh

// SHA-256 hashing (OpenSSL; uses SHA-NI where the CPU has it) and the
// "sha256:<64 hex>" names that blobs and manifests are keyed by.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "roundhouse/util/error.h"

namespace rh {

// Incremental hasher. Not thread-safe; one per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  // "sha256:<hex>"; the hasher is spent afterwards.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

std::string sha256_digest(std::string_view data);
Result<std::string> sha256_file(const std::string& path);

// Checks that s is "sha256:" followed by 64 lowercase hex digits.
Status validate_digest(std::string_view s);
// The `corrupt` error for bytes stored or sent under a digest that is not
// theirs: "<what> does not match its digest: expected <expected>, got <actual>".
std::unexpected<Error> digest_mismatch(std::string_view expected, std::string_view actual,
                                       std::string_view what = "content");

}  // namespace rh

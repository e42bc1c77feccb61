// SHA-256 hashing (OpenSSL; uses SHA-NI where the CPU has it), giving the
// "sha256:<64 hex>" names of hash/digest.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "roundhouse/hash/digest.h"
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

}  // namespace rh

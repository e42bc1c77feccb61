// Digest: a content name, "sha256:" followed by 64 lowercase hex digits, as
// blobs, manifests and artifacts are keyed. Text from outside (a request
// path or body, a manifest, a file) becomes a Digest through parse(), which
// is the one place its form is checked; code that needs the hex part, the
// 32 bytes or the shard folder asks the Digest instead of cutting the text
// at offsets. The store and blob interfaces carry the text form (what rows
// and JSON hold); they check it with validate_digest() or parse().
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

#include "roundhouse/util/error.h"

namespace rh {

class Digest {
 public:
  static constexpr std::string_view k_prefix = "sha256:";
  static constexpr size_t k_size = 32;                                 // bytes
  static constexpr size_t k_hex_size = 2 * k_size;                     // hex digits
  static constexpr size_t k_text_size = k_prefix.size() + k_hex_size;  // 71

  using Bytes = std::array<unsigned char, k_size>;

  // invalid_argument naming what was given when text is not a digest.
  static Result<Digest> parse(std::string_view text);
  static Digest from_bytes(const unsigned char* bytes);  // k_size bytes
  explicit Digest(const Bytes& bytes) : m_bytes(bytes) {}

  const Bytes& bytes() const { return m_bytes; }
  std::string text() const;  // "sha256:<hex>"
  std::string hex() const;   // the 64 hex digits
  // The first byte, which names a blob's shard folder (its first two hex digits).
  unsigned char shard() const { return m_bytes[0]; }

  auto operator<=>(const Digest&) const = default;

 private:
  Bytes m_bytes{};
};

// Checks that s is "sha256:" followed by 64 lowercase hex digits.
Status validate_digest(std::string_view s);
// The `corrupt` error for bytes stored or sent under a digest that is not
// theirs: "<what> does not match its digest: expected <expected>, got <actual>".
std::unexpected<Error> digest_mismatch(std::string_view expected, std::string_view actual,
                                       std::string_view what = "content");

// The hex part of text already checked as a digest (parse or validate_digest).
inline std::string_view digest_hex(std::string_view checked) {
  return checked.substr(Digest::k_prefix.size());
}

}  // namespace rh

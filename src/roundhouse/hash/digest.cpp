#include "roundhouse/hash/digest.h"

#include <cstring>

#include "roundhouse/util/strings.h"

namespace rh {

Result<Digest> Digest::parse(std::string_view text) {
  RH_TRY(validate_digest(text));
  Bytes b{};
  from_hex(text.substr(k_prefix.size()), b.data(), b.size());
  return Digest(b);
}

Digest Digest::from_bytes(const unsigned char* bytes) {
  Bytes b{};
  std::memcpy(b.data(), bytes, b.size());
  return Digest(b);
}

std::string Digest::text() const {
  return std::string(k_prefix) + hex();
}

std::string Digest::hex() const {
  return to_hex(m_bytes.data(), m_bytes.size());
}

Status validate_digest(std::string_view s) {
  if (s.size() != Digest::k_text_size || !s.starts_with(Digest::k_prefix) ||
      !is_hex(s.substr(Digest::k_prefix.size()))) {
    return make_error(ErrorCode::invalid_argument,
                      "digest must be \"sha256:\" followed by 64 lowercase hex digits, got \"" +
                          std::string(s.substr(0, 80)) + "\"");
  }
  return {};
}

std::unexpected<Error> digest_mismatch(std::string_view expected, std::string_view actual,
                                       std::string_view what) {
  return make_error(ErrorCode::corrupt, std::string(what) +
                                            " does not match its digest: expected " +
                                            std::string(expected) + ", got " + std::string(actual));
}

}  // namespace rh

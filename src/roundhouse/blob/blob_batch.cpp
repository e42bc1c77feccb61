#include "roundhouse/blob/blob_batch.h"

#include <cstdint>
#include <cstring>

#include "roundhouse/hash/sha256.h"

namespace rh {

namespace {
constexpr std::string_view k_magic = "RHB1";
constexpr size_t k_digest_len = Digest::k_text_size;
}  // namespace

std::string new_blob_batch() {
  return std::string(k_magic);
}

std::string blob_header(std::string_view digest, uint64_t size) {
  std::string h(digest);
  h.append(reinterpret_cast<const char*>(&size), 8);
  return h;
}

void append_blob(std::string& batch, std::string_view digest, std::string_view bytes) {
  batch += blob_header(digest, bytes.size());
  batch += bytes;
}

Status read_blob_batch(std::string_view b,
                       const std::function<Status(const std::string&, std::string_view)>& each) {
  if (!b.starts_with(k_magic))
    return make_error(ErrorCode::invalid_argument, "a blob batch starts with RHB1");
  b.remove_prefix(k_magic.size());
  for (int64_t entry = 0; !b.empty(); ++entry) {
    if (b.size() < k_digest_len + 8) {
      return make_error(ErrorCode::invalid_argument,
                        "blob batch entry " + std::to_string(entry) + " is cut short");
    }
    std::string digest(b.substr(0, k_digest_len));
    RH_TRY(validate_digest(digest));
    uint64_t size = 0;
    std::memcpy(&size, b.data() + k_digest_len, 8);
    b.remove_prefix(k_digest_len + 8);
    if (size > b.size())
      return make_error(ErrorCode::invalid_argument,
                        "blob batch entry " + digest + " is cut short");
    RH_TRY(each(digest, b.substr(0, size)));
    b.remove_prefix(size);
  }
  return {};
}

}  // namespace rh

// The blob batch format of POST /api/v1/blobs/batch and /blobs/fetch
// (docs/api.md): "RHB1", then per blob its 71-byte digest
// ("sha256:<64 hex>"), its size as u64 little-endian, its bytes. Written and
// read here only: by the server and its client, and by a local store's packs
// (blob/local/packs.h), which are files in this format.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "roundhouse/util/error.h"

namespace rh {

// An empty batch (the magic only).
std::string new_blob_batch();
void append_blob(std::string& batch, std::string_view digest, std::string_view bytes);
// What append_blob puts before the bytes: the digest and the size.
std::string blob_header(std::string_view digest, uint64_t size);
// Calls each(digest, bytes) for every blob, in order. A batch that is not
// one (no magic, an entry cut short, a malformed digest) is invalid_argument
// saying where.
Status read_blob_batch(std::string_view batch,
                       const std::function<Status(const std::string&, std::string_view)>& each);

}  // namespace rh

// The REST client's BlobStore: blobs over /api/v1/blobs (one at a time, many
// small ones in batches, which are missing). It passes the blob conformance
// suite through a real server; list() and remove() are the server's and are
// refused here (blob/blob_store.h).
#pragma once

#include <memory>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/client/http_client.h"

namespace rh {

std::unique_ptr<BlobStore> make_remote_blob_store(std::shared_ptr<HttpClient> client);

}  // namespace rh

// The REST client: MetadataStore and BlobStore implemented over an rh
// server's /api/v1, so every command works the same against a server
// (RH_SERVER) as against the embedded store. It passes the store
// conformance suite (store_conformance_test.cpp) through a real server.
// The MetadataStore parts are in remote_store.cpp, the BlobStore in
// remote_blob_store.cpp.
#pragma once

#include <memory>
#include <string>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/store/metadata_store.h"

namespace rh {

struct RemoteStores {
  std::unique_ptr<MetadataStore> store;
  std::unique_ptr<BlobStore> blobs;
};

// Checks that the server answers (GET /api/v1/health) before returning.
Result<RemoteStores> open_remote(const std::string& base_url, const std::string& token);

}  // namespace rh

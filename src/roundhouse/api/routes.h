// The REST API under /api/v1 (documented in docs/api.md): JSON in and out,
// every error as {"error":{"code","message"}} with the status from
// http_status_for(). Handlers call the MetadataStore and BlobStore only.
#pragma once

#include "roundhouse/api/http.h"
#include "roundhouse/blob/blob_store.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::api {

struct ApiContext {
  MetadataStore& store;
  BlobStore& blobs;
  std::string version;
};

void add_api_routes(Router& router, ApiContext& ctx);

}  // namespace rh::api

// The REST API under /api/v1 (documented in docs/api.md): JSON in and out,
// every error as {"error":{"code","message"}} with the status from
// http_status_for(). Handlers call the MetadataStore and BlobStore only.
#pragma once

#include <chrono>
#include <functional>

#include "roundhouse/api/http.h"
#include "roundhouse/blob/blob_store.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::api {

struct ApiContext {
  MetadataStore& store;
  BlobStore& blobs;
  std::string version;
  // > 0: agents silent this long lose their running task (see QueueStore::reap_workers).
  double worker_timeout_s = 0;
  // >= 0: blobs unreferenced this long are removed (blob_sweeper.h); < 0: never.
  double blob_grace_s = -1;
  // The store's clock (its Env), for the reaper's cutoff.
  std::function<double()> store_now = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
};

void add_api_routes(Router& router, ApiContext& ctx);

}  // namespace rh::api

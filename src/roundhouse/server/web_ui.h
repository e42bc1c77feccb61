// The route that serves the embedded web UI (server/web_assets.h).
#pragma once

#include <span>

#include "roundhouse/api/http.h"
#include "roundhouse/server/web_assets.h"

namespace rh {

// Serves the UI for GET requests outside /api/: files by path (hashed asset
// names cached for good), and index.html for every other path, so each view's
// URL can be opened directly.
void add_web_ui(api::Router& router, std::span<const WebAsset> assets);

}  // namespace rh

// The web UI's files, embedded in the binary at build time (web/ built by
// Vite, see cmake/embed_web.cmake), and the route that serves them.
#pragma once

#include <span>
#include <string_view>

#include "roundhouse/api/http.h"

namespace rh {

struct WebAsset {
  std::string_view path;  // relative, e.g. "index.html", "assets/index-1a2b3c.js"
  std::string_view data;
};

// Generated: every file of the UI build.
std::span<const WebAsset> web_assets();

// Serves the UI for GET requests outside /api/: files by path (hashed asset
// names cached for good), and index.html for every other path, so each view's
// URL can be opened directly.
void add_web_ui(api::Router& router, std::span<const WebAsset> assets);

}  // namespace rh

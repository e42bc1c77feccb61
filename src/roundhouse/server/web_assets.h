// The web UI's files, embedded in the binary at build time (web/ built by
// Vite, see cmake/embed_web.cmake): the UI itself and, under report/, the
// self-contained plots page of `rh plots show|diff`. A build without the web
// UI (RH_BUILD_WEB=OFF) holds one placeholder index.html and nothing else.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace rh {

struct WebAsset {
  std::string_view path;  // relative, e.g. "index.html", "assets/index-1a2b3c.js"
  std::string_view data;
};

// Generated: every file of the UI build.
std::span<const WebAsset> web_assets();

// The asset at `path`, if the build has it.
std::optional<std::string_view> web_asset(std::string_view path);

}  // namespace rh

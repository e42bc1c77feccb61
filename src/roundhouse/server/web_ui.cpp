#include "roundhouse/server/web_ui.h"

#include <string>

namespace rh {

namespace {

std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html")
    return "text/html; charset=utf-8";
  if (ext == "js")
    return "text/javascript; charset=utf-8";
  if (ext == "css")
    return "text/css; charset=utf-8";
  if (ext == "svg")
    return "image/svg+xml";
  if (ext == "png")
    return "image/png";
  if (ext == "ico")
    return "image/x-icon";
  if (ext == "json")
    return "application/json";
  if (ext == "woff2")
    return "font/woff2";
  return "application/octet-stream";
}

}  // namespace

void add_web_ui(api::Router& router, std::span<const WebAsset> assets) {
  router.set_fallback([assets](api::HttpRequest& req, api::Respond respond) {
    const std::string& path = req.params.empty() ? std::string() : req.params[0];
    const WebAsset* index = nullptr;
    for (const auto& a : assets) {
      if (a.path == "index.html")
        index = &a;
      if (!path.empty() && a.path == path) {
        api::HttpResponse r;
        r.content_type = std::string(content_type_for(a.path));
        r.body = std::string(a.data);
        r.headers.emplace_back("X-Content-Type-Options", "nosniff");
        // Vite puts a content hash in every name under assets/.
        r.headers.emplace_back("Cache-Control", path.starts_with("assets/")
                                                    ? "public, max-age=31536000, immutable"
                                                    : "no-cache");
        return respond(std::move(r));
      }
    }
    // A file that is not there is a 404, not the app (a stale tab asking for an old bundle).
    if (path.starts_with("assets/") || !index) {
      return respond(
          api::error_response(Error{ErrorCode::not_found, "no file /" + path + " in the web UI"}));
    }
    api::HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(index->data);
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    respond(std::move(r));
  });
}

}  // namespace rh

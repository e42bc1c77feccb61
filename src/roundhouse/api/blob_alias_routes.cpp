// Blob aliases (md5 names -> digests, BlobAliases): record and look up, for
// pipelines pushed to a server.
#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/hash/digest.h"

namespace rh::api {

void Api::add_blob_alias_routes(Router& r) {
  // {"aliases": {"<md5>": "<digest>", ...}}: each blob must be stored; an
  // alias then refers to it (checked and recorded under the reference lock).
  route(r, "POST", "/api/v1/blobs/aliases", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          if (!j.contains("aliases") || !j["aliases"].is_object())
            return make_error(ErrorCode::invalid_argument,
                              "body: aliases must be an object of md5 name -> digest");
          std::vector<std::pair<std::string, std::string>> aliases;
          std::vector<std::string> digests;
          for (const auto& [md5, digest] : j["aliases"].items()) {
            if (!digest.is_string())
              return make_error(ErrorCode::invalid_argument,
                                "aliases." + md5 + ": must be a digest string");
            if (!valid_md5_name(md5))
              return make_error(ErrorCode::invalid_argument,
                                "aliases." + md5 + ": not an md5 name (32 hex digits, maybe .dir)");
            RH_TRY(validate_digest(digest.get<std::string>()));
            aliases.emplace_back(md5, digest.get<std::string>());
            digests.push_back(digest.get<std::string>());
          }
          if (aliases.size() > 100000)
            return make_error(ErrorCode::invalid_argument, "at most 100000 aliases a request");
          auto refs = referring();
          RH_TRY_ASSIGN(auto missing, m_ctx.blobs.missing(digests));
          if (!missing.empty())
            return make_error(
                ErrorCode::conflict,
                "blob " + missing[0] + " is not stored: upload it before naming it" +
                    (missing.size() > 1 ? " (and " + std::to_string(missing.size() - 1) + " more)"
                                        : std::string()));
          RH_TRY(m_ctx.store.blob_aliases().put(aliases));
          return ok_json(Json{{"recorded", aliases.size()}});
        }));
  // {"md5": [names]} -> {"aliases": {name: digest}} for the known ones.
  route(r, "POST", "/api/v1/blobs/aliases/lookup",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::vector<std::string> names;
          RH_TRY(read_string_list(j, "md5", "body", names));
          if (names.size() > 100000)
            return make_error(ErrorCode::invalid_argument, "at most 100000 names a request");
          RH_TRY_ASSIGN(auto found, m_ctx.store.blob_aliases().lookup(names));
          Json out = Json::object();
          for (const auto& [md5, digest] : found)
            out[md5] = digest;
          return ok_json(Json{{"aliases", out}});
        }));
}

}  // namespace rh::api

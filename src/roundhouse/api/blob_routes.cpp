// Blobs by digest: one at a time (PUT/GET), many small ones in a batch, fetch several, ask which
// are missing.
#include <unordered_set>

#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/blob/blob_batch.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/trace.h"

namespace rh::api {

void Api::add_blob_routes(Router& r) {
  route(r, "PUT", "/api/v1/blobs/{digest}", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY(validate_digest(req.params[0]));
          if (req.body_digest.empty()) {
            RH_TRY_ASSIGN(BlobInfo info, m_ctx.blobs.put_file(req.body_file, req.params[0]));
            RH_TRY(m_ctx.store.blob_orphans().refresh({info.digest}));
            return ok_json(Json{{"digest", info.digest}, {"size", info.size}}, 201);
          }
          if (req.body_digest != req.params[0]) {
            return digest_mismatch(req.params[0], req.body_digest);
          }
          RH_TRY_ASSIGN(BlobInfo info, m_ctx.blobs.put_staged(req.body_file, req.body_digest));
          RH_TRY(m_ctx.store.blob_orphans().refresh({info.digest}));
          return ok_json(Json{{"digest", info.digest}, {"size", info.size}}, 201);
        }),
        /*stream_body=*/true);
  route(r, "GET", "/api/v1/blobs/{digest}", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          return blob_response(req.params[0], "application/octet-stream", "");
        }));
  // Many small blobs in one request ("RHB1", then per blob: its 71-byte
  // digest, its size as u64 little-endian, its bytes), each checked against
  // its digest on every core, then stored together (a local store writes
  // one pack and syncs it once) before the answer.
  route(r, "POST", "/api/v1/blobs/batch", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          std::vector<std::pair<std::string, std::string_view>> blobs;
          RH_TRY(read_blob_batch(req.body,
                                 [&](const std::string& digest, std::string_view bytes) -> Status {
                                   blobs.emplace_back(digest, bytes);
                                   return {};
                                 }));
          Trace check_trace("blobs batch: check");
          RH_TRY(parallel_for(blobs.size(), [&](size_t i) -> Status {
            const auto& [digest, bytes] = blobs[i];
            std::string actual = sha256_digest(bytes);
            if (actual != digest)
              return digest_mismatch(digest, actual);
            return {};
          }));
          check_trace.end();
          Trace t("blobs batch: store");
          RH_TRY(m_ctx.blobs.put_checked(blobs));
          std::vector<std::string> digests;
          for (const auto& b : blobs)
            digests.push_back(b.first);
          RH_TRY(m_ctx.store.blob_orphans().refresh(digests));
          return ok_json(Json{{"stored", blobs.size()}});
        }));
  // Many blobs in one answer, in the batch format above (in the order asked;
  // at most 64 MiB of content a request).
  route(r, "POST", "/api/v1/blobs/fetch", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::vector<std::string> digests;
          RH_TRY(read_string_list(j, "digests", "body", digests));
          if (digests.size() > 10000)
            return make_error(ErrorCode::invalid_argument, "at most 10000 digests a request");
          HttpResponse resp;
          resp.content_type = "application/x-rh-blobs";
          resp.body = new_blob_batch();
          for (const auto& d : digests) {
            RH_TRY(validate_digest(d));
            RH_TRY_ASSIGN(std::string data, m_ctx.blobs.get_bytes(d));
            if (resp.body.size() + data.size() > (64ull << 20)) {
              return make_error(ErrorCode::too_large,
                                "the blobs asked for exceed 64 MiB; ask for fewer at a time");
            }
            append_blob(resp.body, d, data);
          }
          return resp;
        }));
  // Which of these blobs the server lacks: what an upload still has to send.
  route(r, "POST", "/api/v1/blobs/missing", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          // JSON, or text/plain: a digest a line, answered the same way
          // (50,000 digests: 0.3 s as JSON).
          bool plain = req.header("content-type").starts_with("text/plain");
          std::vector<std::string> digests;
          if (plain) {
            size_t line = 0;
            for (const auto& d : split(req.body, '\n')) {
              ++line;
              if (d.empty())
                continue;
              if (auto st = validate_digest(d); !st)
                return make_error(ErrorCode::invalid_argument,
                                  "line " + std::to_string(line) + ": " + st.error().message);
              digests.push_back(d);
            }
          } else {
            RH_TRY_ASSIGN(Json j, body_object(req));
            RH_TRY(read_string_list(j, "digests", "body", digests));
            for (const auto& d : digests) {
              RH_TRY(validate_digest(d));
            }
          }
          if (digests.size() > 100000)
            return make_error(ErrorCode::invalid_argument, "at most 100000 digests a request");
          RH_TRY_ASSIGN(auto missing, m_ctx.blobs.missing(digests));
          // The present ones are about to be referred to: not removed soon.
          RH_TRY(refresh_present(digests, missing));
          if (!plain)
            return ok_json(Json{{"missing", missing}});
          HttpResponse res;
          res.content_type = "text/plain";
          for (const auto& d : missing)
            res.body += d + "\n";
          return res;
        }));
}

Status Api::refresh_present(const std::vector<std::string>& asked,
                            const std::vector<std::string>& missing) {
  std::unordered_set<std::string_view> absent(missing.begin(), missing.end());
  std::vector<std::string> present;
  for (const auto& d : asked) {
    if (!absent.count(d))
      present.push_back(d);
  }
  return m_ctx.store.blob_orphans().refresh(present);
}

Result<uint64_t> Api::stored_blob_size(const std::string& digest) {
  RH_TRY(validate_digest(digest));
  auto size = m_ctx.blobs.stat(digest);
  if (!size && size.error().code == ErrorCode::not_found) {
    return make_error(ErrorCode::invalid_argument, "body.digest " + digest +
                                                       " is not stored; upload it first (PUT "
                                                       "/api/v1/blobs/" +
                                                       digest + ")");
  }
  return size;
}

Result<HttpResponse> Api::blob_response(const std::string& digest, const std::string& content_type,
                                        const std::string& filename) {
  RH_TRY(validate_digest(digest));
  RH_TRY_ASSIGN(uint64_t size, m_ctx.blobs.stat(digest));
  HttpResponse r;
  r.content_type = content_type;
  r.headers.emplace_back("X-Content-Digest", digest);
  if (!filename.empty()) {
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  }
  if (std::string path = m_ctx.blobs.file_of(digest); !path.empty()) {
    r.file_path = std::move(path);  // loose: sent from its file (a packed one is read)
    r.file_length = size;
    return r;
  }
  RH_TRY_ASSIGN(r.body, m_ctx.blobs.get_bytes(digest));
  return r;
}

}  // namespace rh::api

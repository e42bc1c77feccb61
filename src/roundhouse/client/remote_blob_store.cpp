#include "roundhouse/client/remote_blob_store.h"

#include <sys/stat.h>

#include <cstring>

#include "roundhouse/blob/blob_batch.h"
#include "roundhouse/client/rest_calls.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"

namespace rh {

namespace {

// Blobs over /api/v1/blobs. The server owns deletion (it knows what is referenced).
class RemoteBlobStore final : public BlobStore {
 public:
  explicit RemoteBlobStore(std::shared_ptr<HttpClient> c) : m_c(std::move(c)) {}

  Status get_many(
      const std::vector<std::string>& digests,
      const std::function<Status(const std::string&, std::string_view)>& each) override {
    return in_slices(digests, 1000, [&](const std::vector<std::string>& part) -> Status {
      RH_TRY_ASSIGN(std::string body,
                    m_c->call("POST", "/api/v1/blobs/fetch", Json{{"digests", part}}.dump()));
      // The caller's errors pass through; a malformed answer is the server's fault.
      std::optional<Error> from_caller;
      auto st = read_blob_batch(body, [&](const std::string& d, std::string_view bytes) {
        auto r = each(d, bytes);
        if (!r)
          from_caller = r.error();
        return r;
      });
      if (from_caller)
        return std::unexpected(*from_caller);
      if (!st)
        return make_error(ErrorCode::internal, "the server's blob batch: " + st.error().message);
      return {};
    });
  }

  // Small blobs many to a request (POST /blobs/batch: up to 2,000 blobs or
  // 16 MiB), large ones one each. Requests go out on several connections at
  // once, each sender reading its own files, so the client's reads, the
  // transfer and the server's writes and syncs overlap.
  Status put_many(const std::vector<std::pair<std::string, std::string>>& items) override {
    std::vector<uint64_t> sizes(items.size());
    RH_TRY(parallel_for(items.size(), [&](size_t i) -> Status {
      struct stat st;
      if (::stat(items[i].second.c_str(), &st) != 0)
        return make_error(ErrorCode::io,
                          "cannot read " + items[i].second + ": " + std::strerror(errno));
      sizes[i] = static_cast<uint64_t>(st.st_size);
      return {};
    }));
    constexpr uint64_t k_large = 4 << 20, k_batch_bytes = 16 << 20;
    struct Unit {
      size_t begin, end;
      bool large;
    };
    std::vector<Unit> units;
    uint64_t bytes = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (sizes[i] > k_large || items[i].first.size() != Digest::k_text_size) {
        units.push_back(Unit{i, i + 1, true});
        continue;
      }
      if (units.empty() || units.back().large || units.back().end != i ||
          units.back().end - units.back().begin >= 2000 || bytes + sizes[i] > k_batch_bytes) {
        units.push_back(Unit{i, i + 1, false});
        bytes = 0;
      } else {
        units.back().end = i + 1;
      }
      bytes += sizes[i];
    }
    // One connection per sender, taken from a pool for the length of a unit.
    std::mutex mu;
    std::vector<std::unique_ptr<HttpClient>> idle;
    auto take = [&]() {
      std::lock_guard lk(mu);
      if (idle.empty())
        return m_c->another();
      auto c = std::move(idle.back());
      idle.pop_back();
      return c;
    };
    return parallel_for(
        units.size(),
        [&](size_t u) -> Status {
          const Unit& unit = units[u];
          auto client = take();
          if (unit.large) {
            RH_TRY(put_file_on(*client, items[unit.begin].second, items[unit.begin].first));
          } else {
            std::string batch = new_blob_batch();
            batch.reserve(k_batch_bytes + 100 * (unit.end - unit.begin));
            for (size_t i = unit.begin; i < unit.end; ++i) {
              RH_TRY_ASSIGN(std::string data, read_file(items[i].second));
              append_blob(batch, items[i].first, data);
            }
            RH_TRY(client->call("POST", "/api/v1/blobs/batch", batch, "application/x-rh-blobs"));
          }
          std::lock_guard lk(mu);
          idle.push_back(std::move(client));
          return {};
        },
        {}, 3);
  }

  Result<std::vector<std::string>> missing(const std::vector<std::string>& digests) override {
    std::vector<std::string> out;
    RH_TRY(in_slices(digests, 50000, [&](const std::vector<std::string>& part) -> Status {
      std::string body;
      body.reserve(part.size() * 72);
      for (const auto& d : part)
        body += d + "\n";
      RH_TRY_ASSIGN(std::string text,
                    m_c->call("POST", "/api/v1/blobs/missing", body, "text/plain", {}));
      for (auto& d : split(text, '\n')) {
        if (d.empty())
          continue;
        RH_TRY(validate_digest(d));
        out.push_back(std::move(d));
      }
      return {};
    }));
    return out;
  }

  Result<BlobInfo> put(ByteSource& src, std::string_view expected) override {
    // The digest names the upload, so the bytes are staged and hashed first.
    std::string tmpdir = "/tmp";
    RH_TRY_ASSIGN(auto file, AtomicFile::create(tmpdir + "/rh-upload", tmpdir));
    std::string buf(1 << 20, '\0');
    while (true) {
      RH_TRY_ASSIGN(size_t n, src.read(buf.data(), buf.size()));
      if (n == 0)
        break;
      RH_TRY(file.write(buf.data(), n));
    }
    return put_file(file.temp_path(), expected);
  }

  // A file under a digest the caller vouches for: the server checks the
  // content against it, so there is no hashing (and no HEAD) here first.
  Result<BlobInfo> put_file_on(HttpClient& c, const std::string& path, std::string digest,
                               const std::function<void(uint64_t, uint64_t)>& progress = {}) {
    if (digest.empty()) {
      RH_TRY_ASSIGN(digest, sha256_file(path));
    }
    RH_TRY(validate_digest(digest));
    RH_TRY_ASSIGN(std::string body, c.upload_file("/api/v1/blobs/" + digest, path, progress));
    RH_TRY_ASSIGN(Json j, parse_json(body, "upload response"));
    return BlobInfo{digest, j.value("size", uint64_t{0})};
  }

  Result<BlobInfo> put_file(const std::string& path, std::string_view expected) override {
    RH_TRY_ASSIGN(std::string digest, sha256_file(path));
    if (!expected.empty() && digest != expected) {
      return digest_mismatch(expected, digest, "content of " + path);
    }
    if (auto size = stat(digest))
      return BlobInfo{digest, *size};
    return put_file_on(*m_c, path, digest, m_progress);
  }

  Status get(std::string_view digest, ByteSink& sink, uint64_t offset, uint64_t length) override {
    RH_TRY(validate_digest(digest));
    if (offset == 0 && length == UINT64_MAX) {
      return m_c->download("/api/v1/blobs/" + std::string(digest), sink, m_progress);
    }
    // Ranges are cut client-side (the server streams whole objects).
    uint64_t pos = 0;
    CallbackSink cut([&](const char* p, size_t n) -> Status {
      uint64_t start = pos, end = pos + n;
      pos = end;
      uint64_t lo = std::max(start, offset);
      uint64_t hi = length == UINT64_MAX ? end : std::min(end, offset + length);
      if (lo < hi)
        return sink.write(p + (lo - start), static_cast<size_t>(hi - lo));
      return {};
    });
    return m_c->download("/api/v1/blobs/" + std::string(digest), cut);
  }

  Result<uint64_t> stat(std::string_view digest) override {
    RH_TRY(validate_digest(digest));
    RH_TRY_ASSIGN(HttpResult r, m_c->raw("HEAD", "/api/v1/blobs/" + std::string(digest)));
    if (r.status == 404)
      return make_error(ErrorCode::not_found, "no object " + std::string(digest));
    if (r.status != 200) {
      return make_error(ErrorCode::internal, "HEAD blob answered HTTP " + std::to_string(r.status));
    }
    return static_cast<uint64_t>(
        std::stoull(r.header("content-length").empty() ? "0" : r.header("content-length")));
  }

  Result<std::vector<BlobInfo>> list() override {
    return make_error(
        ErrorCode::invalid_argument,
        "listing blobs is done on the server (rh server's data folder), not over HTTP");
  }

  Status remove(std::string_view) override {
    return make_error(
        ErrorCode::invalid_argument,
        "blobs on a server are removed by the server, which knows what refers to them");
  }

  void set_progress(std::function<void(uint64_t, uint64_t)> p) override {
    m_progress = std::move(p);
  }

 private:
  std::shared_ptr<HttpClient> m_c;
  std::function<void(uint64_t, uint64_t)> m_progress;
};

}  // namespace

std::unique_ptr<BlobStore> make_remote_blob_store(std::shared_ptr<HttpClient> client) {
  return std::make_unique<RemoteBlobStore>(std::move(client));
}

}  // namespace rh

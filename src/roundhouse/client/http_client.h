// HttpClient: a keep-alive HTTP/1.1 client on libcurl for talking to an rh
// server. Thread-safe: requests are serialized on one connection (curl easy
// handle); callers that need parallelism make one client per thread.
// Connection failures are `unavailable`; an {"error":...} reply becomes the
// Error it describes, so a remote call fails exactly like a local one.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/util/error.h"

namespace rh {

struct HttpResult {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string header(const std::string& lower) const;
};

class HttpClient {
 public:
  // base_url like "http://127.0.0.1:8690"; token sent as a Bearer token when set.
  HttpClient(std::string base_url, std::string token);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Any status is returned; only transport failures are errors.
  // extra_headers: whole lines, e.g. "Idempotency-Key: 0123".
  Result<HttpResult> raw(const std::string& method, const std::string& path,
                         const std::string& body = {},
                         const std::string& content_type = "application/json",
                         const std::vector<std::string>& extra_headers = {});
  // A 2xx body, or the server's error as an Error.
  Result<std::string> call(const std::string& method, const std::string& path,
                           const std::string& body = {},
                           const std::string& content_type = "application/json",
                           const std::vector<std::string>& extra_headers = {});
  // Streams a response body into sink (no buffering of the whole body).
  Status download(const std::string& path, ByteSink& sink,
                  const std::function<void(uint64_t done, uint64_t total)>& progress = {});
  // Streams a file as a PUT body.
  Result<std::string> upload_file(const std::string& path, const std::string& file,
                                  const std::function<void(uint64_t, uint64_t)>& progress = {});

  const std::string& base_url() const { return m_base; }
  // A second connection to the same server with the same token (one client
  // sends one request at a time; requests in parallel need one each).
  std::unique_ptr<HttpClient> another() const {
    return std::make_unique<HttpClient>(m_base, m_token);
  }

 private:
  Error to_error(const HttpResult& r, const std::string& method, const std::string& path) const;
  std::string m_base;
  std::string m_token;
  std::mutex m_mu;
  void* m_curl;
};

// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& s);

}  // namespace rh

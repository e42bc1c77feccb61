// HttpServer: serves a Router over HTTP/1.1 with Boost.Beast.
//
// One thread runs all sockets (an idle keep-alive or a waiting long-poll
// costs a socket and a timer, not a thread); handlers run on a small worker
// pool. Bodies over max_body_bytes get 413 before they are read; routes marked
// stream_body stream to a temp file instead. When api_token is set, every
// /api/ request must carry "Authorization: Bearer <token>" or gets 401.
// Shutdown (SIGINT/SIGTERM or stop()): stop accepting, close idle
// connections, let requests in flight finish and answer, then return.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "roundhouse/api/http.h"
#include "roundhouse/util/error.h"

namespace rh {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port
  uint64_t max_body_bytes = 64ull << 20;
  uint64_t max_stream_body_bytes = 64ull << 30;
  std::string api_token;       // empty = no auth
  std::string upload_tmp_dir;  // where streamed bodies land; same file system as the blobs
  int worker_threads = 4;
  int idle_timeout_s = 120;
};

class HttpServer {
 public:
  // Binds and listens; serving starts with run().
  static Result<std::unique_ptr<HttpServer>> bind(const api::Router& router,
                                                  HttpServerOptions options);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  // Serves until SIGINT/SIGTERM (when handle_signals) or stop(), then drains.
  virtual void run(bool handle_signals) = 0;
  // Thread-safe; run() returns once in-flight requests are answered.
  virtual void stop() = 0;
};

}  // namespace rh

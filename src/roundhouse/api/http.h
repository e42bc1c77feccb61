// HTTP request/response values and the route table. Knows nothing of the
// server library: handlers are plain functions, testable without sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh::api {

struct HttpRequest {
  std::string method;                             // "GET", "POST", ...
  std::string path;                               // decoded, without the query
  std::multimap<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;     // names lowercased
  std::string body;
  // When the server streamed a large body to disk (blob uploads), its path; body is empty.
  std::string body_file;
  // "sha256:<hex>" of body_file, computed as it arrived; empty when not known.
  std::string body_digest;
  std::vector<std::string> params;  // captures of {name} segments, in order

  // First value of a query parameter, or empty.
  std::string query_value(const std::string& key) const;
  bool has_query(const std::string& key) const { return query.count(key) > 0; }
  std::string header(const std::string& lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Send this file's [file_offset, file_offset + file_length) instead of body.
  std::string file_path;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
};

// Handlers answer exactly once, from any thread, possibly later (long-poll).
using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest&, Respond)>;

class Router {
 public:
  // pattern: "/api/v1/tasks/{id}/scalars"; a final "{name*}" captures the rest of the path.
  // stream_body: the body may be large and is streamed to a file (HttpRequest::body_file).
  void add(const std::string& method, const std::string& pattern, Handler h,
           bool stream_body = false);

  struct Match {
    const Handler* handler = nullptr;
    std::vector<std::string> params;
    bool stream_body = false;
    bool path_known = false;  // some route has this path (405 rather than 404)
  };
  Match match(const std::string& method, const std::string& path) const;
  // Ties an object's lifetime to the router's (handlers that capture it).
  void keep_alive(std::shared_ptr<void> owner) { m_owned.push_back(std::move(owner)); }
  // Answers GET/HEAD requests that no route matched outside /api/ (the web UI);
  // its one param is the path without the leading '/'.
  void set_fallback(Handler h) { m_fallback = std::move(h); }
  // Run by the server when it begins to shut down (e.g. to answer long-polls).
  void on_shutdown(std::function<void()> fn) { m_shutdown.push_back(std::move(fn)); }
  void shutdown() const {
    for (const auto& fn : m_shutdown)
      fn();
  }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> parts;
    Handler handler;
    bool stream_body;
  };
  std::vector<Route> m_routes;
  std::vector<std::shared_ptr<void>> m_owned;
  Handler m_fallback;
  std::vector<std::function<void()>> m_shutdown;
};

// {"error":{"code":..., "message":...}} with the status from the one table.
HttpResponse error_response(const Error& e);
int http_status_for(ErrorCode code);
HttpResponse json_response(int status, std::string body);

// Percent-decoding of a path segment or query component ('+' as space in queries).
std::string url_decode(std::string_view s, bool plus_as_space);
void parse_query(std::string_view qs, std::multimap<std::string, std::string>& out);

}  // namespace rh::api

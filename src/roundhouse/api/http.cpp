#include "roundhouse/api/http.h"

#include <nlohmann/json.hpp>

#include "roundhouse/util/strings.h"

namespace rh::api {

std::string HttpRequest::query_value(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

std::string HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

void Router::add(const std::string& method, const std::string& pattern, Handler h,
                 bool stream_body) {
  auto parts = split(std::string_view(pattern).substr(1), '/');
  m_routes.push_back(Route{method, std::move(parts), std::move(h), stream_body});
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match out;
  if (path.empty() || path[0] != '/')
    return out;
  auto segs = split(std::string_view(path).substr(1), '/');
  for (const auto& r : m_routes) {
    std::vector<std::string> params;
    bool ok = true;
    size_t i = 0;
    for (; i < r.parts.size(); ++i) {
      const auto& p = r.parts[i];
      if (p.size() > 3 && p.front() == '{' && p.ends_with("*}")) {
        if (i >= segs.size()) {
          ok = false;
          break;
        }
        std::vector<std::string> rest(segs.begin() + static_cast<long>(i), segs.end());
        params.push_back(join(rest, "/"));
        i = segs.size();
        break;
      }
      if (i >= segs.size()) {
        ok = false;
        break;
      }
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segs[i].empty()) {
          ok = false;
          break;
        }
        params.push_back(segs[i]);
      } else if (p != segs[i]) {
        ok = false;
        break;
      }
    }
    if (!ok || i != segs.size())
      continue;
    out.path_known = true;
    if (r.method != method && !(method == "HEAD" && r.method == "GET"))
      continue;
    out.handler = &r.handler;
    out.params = std::move(params);
    out.stream_body = r.stream_body;
    return out;
  }
  if (m_fallback && !out.path_known && (method == "GET" || method == "HEAD") &&
      !path.starts_with("/api/") && path != "/api") {
    out.handler = &m_fallback;
    out.params = {path.substr(1)};
  }
  return out;
}

int http_status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return 400;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::already_exists:
      return 409;
    case ErrorCode::conflict:
      return 409;
    case ErrorCode::ambiguous:
      return 409;
    case ErrorCode::too_large:
      return 413;
    case ErrorCode::unauthorized:
      return 401;
    case ErrorCode::corrupt:
      return 422;
    case ErrorCode::io:
      return 500;
    case ErrorCode::unavailable:
      return 503;
    case ErrorCode::internal:
      return 500;
  }
  return 500;
}

HttpResponse error_response(const Error& e) {
  nlohmann::json j{{"error", {{"code", error_code_name(e.code)}, {"message", e.message}}}};
  return json_response(http_status_for(e.code),
                       j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string url_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9')
          return h - '0';
        if (h >= 'a' && h <= 'f')
          return h - 'a' + 10;
        if (h >= 'A' && h <= 'F')
          return h - 'A' + 10;
        return -1;
      };
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

void parse_query(std::string_view qs, std::multimap<std::string, std::string>& out) {
  for (const auto& part : split(qs, '&')) {
    if (part.empty())
      continue;
    auto eq = part.find('=');
    std::string k = url_decode(std::string_view(part).substr(0, eq), true);
    std::string v =
        eq == std::string::npos ? "" : url_decode(std::string_view(part).substr(eq + 1), true);
    out.emplace(std::move(k), std::move(v));
  }
}

}  // namespace rh::api

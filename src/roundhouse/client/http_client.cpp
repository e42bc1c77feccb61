#include "roundhouse/client/http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "roundhouse/util/json.h"

namespace rh {

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

size_t write_string(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

size_t write_header(char* p, size_t size, size_t n, void* ud) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' '))
      value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.pop_back();
    static_cast<HttpResult*>(ud)->headers.emplace_back(name, value);
  }
  return size * n;
}

}  // namespace

std::string HttpResult::header(const std::string& lower) const {
  for (const auto& [k, v] : headers) {
    if (k == lower)
      return v;
  }
  return {};
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// Resets the handle and sets what every request shares: URL, keep-alive
// friendly options, the auth header and, when given, a content type.
// Returns the header list, which the caller frees after the transfer.
static curl_slist* prepare(CURL* c, const std::string& url, const std::string& token,
                           const std::string& content_type,
                           const std::vector<std::string>& extra_headers = {}) {
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_slist* headers = nullptr;
  if (!token.empty())
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  if (!content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  for (const auto& h : extra_headers)
    headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  return headers;
}

namespace {

// A transfer that failed below HTTP, said in the user's terms.
Error transport_error(const std::string& what, const std::string& base, CURLcode rc) {
  std::string why;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      why = "cannot reach the rh server at " + base;
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_FAIL_REWIND:
      why = "the connection to the rh server at " + base + " broke off (did it stop?)";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      why = "the rh server at " + base + " did not answer in time";
      break;
    default:
      why = "talking to the rh server at " + base + " failed";
  }
  return Error{ErrorCode::unavailable, what + ": " + why + " (" + curl_easy_strerror(rc) + ")"};
}

}  // namespace

HttpClient::HttpClient(std::string base_url, std::string token)
    : m_base(std::move(base_url)), m_token(std::move(token)) {
  static CurlGlobal global;
  while (!m_base.empty() && m_base.back() == '/')
    m_base.pop_back();
  m_curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(static_cast<CURL*>(m_curl));
}

Result<HttpResult> HttpClient::raw(const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& content_type,
                                   const std::vector<std::string>& extra_headers) {
  std::lock_guard lock(m_mu);
  CURL* c = static_cast<CURL*>(m_curl);
  HttpResult r;
  curl_slist* headers = prepare(c, m_base + path, m_token, content_type, extra_headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_string);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return std::unexpected(transport_error(method + " " + path, m_base, rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

Error HttpClient::to_error(const HttpResult& r, const std::string& method,
                           const std::string& path) const {
  auto j = parse_json(r.body, "response");
  if (j && j->is_object() && j->contains("error") && (*j)["error"].is_object()) {
    const Json& e = (*j)["error"];
    std::string code = e.value("code", "internal");
    std::string message = e.value("message", "");
    for (auto c :
         {ErrorCode::invalid_argument, ErrorCode::not_found, ErrorCode::already_exists,
          ErrorCode::conflict, ErrorCode::ambiguous, ErrorCode::too_large, ErrorCode::unauthorized,
          ErrorCode::corrupt, ErrorCode::io, ErrorCode::unavailable, ErrorCode::internal}) {
      if (error_code_name(c) == code)
        return Error{c, message};
    }
    return Error{ErrorCode::internal, message};
  }
  return Error{r.status == 401 ? ErrorCode::unauthorized
                               : (r.status == 404 ? ErrorCode::not_found : ErrorCode::internal),
               method + " " + path + " answered HTTP " + std::to_string(r.status)};
}

Result<std::string> HttpClient::call(const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& content_type,
                                     const std::vector<std::string>& extra_headers) {
  RH_TRY_ASSIGN(HttpResult r, raw(method, path, body, content_type, extra_headers));
  if (r.status < 200 || r.status >= 300)
    return std::unexpected(to_error(r, method, path));
  return std::move(r.body);
}

namespace {

struct DownloadState {
  ByteSink* sink;
  std::string error_body;
  long status = 0;
  CURL* curl;
  Status failure;
  const std::function<void(uint64_t, uint64_t)>* progress;
  uint64_t done = 0;
  uint64_t total = 0;
};

size_t write_sink(char* p, size_t size, size_t n, void* ud) {
  auto* st = static_cast<DownloadState*>(ud);
  if (st->status == 0)
    curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &st->status);
  if (st->status < 200 || st->status >= 300) {
    st->error_body.append(p, size * n);
    return size * n;
  }
  if (auto s = st->sink->write(p, size * n); !s) {
    st->failure = s;
    return 0;
  }
  st->done += size * n;
  if (st->progress && *st->progress)
    (*st->progress)(st->done, st->total);
  return size * n;
}

}  // namespace

Status HttpClient::download(const std::string& path, ByteSink& sink,
                            const std::function<void(uint64_t, uint64_t)>& progress) {
  std::lock_guard lock(m_mu);
  CURL* c = static_cast<CURL*>(m_curl);
  DownloadState st{&sink, {}, 0, c, {}, &progress};
  HttpResult head;
  curl_slist* headers = prepare(c, m_base + path, m_token, "");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (!st.failure)
    return st.failure;
  if (rc != CURLE_OK) {
    return std::unexpected(transport_error("download of " + path, m_base, rc));
  }
  if (st.status == 0)  // an empty body never reaches write_sink
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st.status);
  if (st.status < 200 || st.status >= 300) {
    HttpResult r{st.status, st.error_body, {}};
    return std::unexpected(to_error(r, "GET", path));
  }
  return {};
}

namespace {

struct UploadState {
  int fd;
  const std::function<void(uint64_t, uint64_t)>* progress;
  uint64_t done = 0;
  uint64_t total = 0;
};

size_t read_file_cb(char* buf, size_t size, size_t n, void* ud) {
  auto* st = static_cast<UploadState*>(ud);
  ssize_t k;
  do {
    k = ::read(st->fd, buf, size * n);
  } while (k < 0 && errno == EINTR);
  if (k < 0)
    return CURL_READFUNC_ABORT;
  st->done += static_cast<uint64_t>(k);
  if (st->progress && *st->progress)
    (*st->progress)(st->done, st->total);
  return static_cast<size_t>(k);
}

// Lets curl rewind the body to send it again on a fresh connection (a
// reused one found closed), instead of failing the upload.
int seek_file_cb(void* ud, curl_off_t offset, int origin) {
  auto* st = static_cast<UploadState*>(ud);
  if (::lseek(st->fd, static_cast<off_t>(offset), origin) < 0)
    return CURL_SEEKFUNC_FAIL;
  st->done = origin == SEEK_SET ? static_cast<uint64_t>(offset) : st->done;
  return CURL_SEEKFUNC_OK;
}

}  // namespace

Result<std::string> HttpClient::upload_file(
    const std::string& path, const std::string& file,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::io, "cannot open " + file + ": " + std::strerror(errno));
  struct stat sb;
  ::fstat(fd, &sb);
  UploadState up{fd, &progress, 0, static_cast<uint64_t>(sb.st_size)};
  std::lock_guard lock(m_mu);
  CURL* c = static_cast<CURL*>(m_curl);
  HttpResult r;
  curl_slist* headers = prepare(c, m_base + path, m_token, "application/octet-stream");
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_file_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_file_cb);
  curl_easy_setopt(c, CURLOPT_SEEKDATA, &up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(sb.st_size));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_string);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  ::close(fd);
  if (rc != CURLE_OK) {
    return std::unexpected(transport_error("upload to " + path, m_base, rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  if (r.status < 200 || r.status >= 300)
    return std::unexpected(to_error(r, "PUT", path));
  return r.body;
}

}  // namespace rh

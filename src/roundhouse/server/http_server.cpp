#include "roundhouse/server/http_server.h"

#include <openssl/crypto.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/fs.h"

namespace rh {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class ServerImpl;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl& server);
  void start() { read_header(); }
  // Closes the connection unless a request is in flight (that one closes after answering).
  void close_if_idle();

 private:
  void read_header();
  void on_header(beast::error_code ec);
  void on_body(beast::error_code ec);
  // A streamed body of known length: read in large pieces straight into
  // the file and hashed on the way (Beast's file body wrote in small pieces).
  void read_raw_body();
  void on_raw_body(beast::error_code ec, size_t n);
  bool flush_raw_chunk();
  void dispatch(api::HttpRequest req);
  void reply(api::HttpResponse resp, bool close_after);
  void after_write(bool close);
  void close();
  // Closes after reading and dropping what the client still sends, so a
  // client that writes its whole body before reading sees our answer
  // instead of a connection reset.
  void linger();

  beast::tcp_stream m_stream;
  // Beast reads a body no larger at a time than the room this buffer has
  // (at least 512 bytes, at most 64 KiB): room for 64 KiB, or an 8 MiB
  // upload batch takes some 100,000 reads.
  static constexpr size_t k_body_read = 64 << 10;
  beast::flat_buffer m_buf;
  ServerImpl& m_server;
  std::optional<http::request_parser<http::empty_body>> m_header;
  std::optional<http::request_parser<http::string_body>> m_string;
  std::optional<http::request_parser<http::file_body>> m_file;
  std::string m_upload_path;
  int m_upload_fd = -1;
  uint64_t m_body_left = 0;
  std::vector<char> m_chunk;  // only while a raw body is read
  size_t m_chunk_fill = 0;
  std::unique_ptr<Sha256> m_body_sha;
  api::Router::Match m_match;
  bool m_busy = false;
  bool m_closed = false;
  bool m_keep_alive = true;
  bool m_head = false;                               // answer with headers only
  bool m_body_unread = false;                        // answered before reading the request body
  std::unique_ptr<std::array<char, 16384>> m_drain;  // only while lingering: sessions stay small
  std::optional<net::executor_work_guard<net::io_context::executor_type>> m_guard;
};

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const api::Router& router, HttpServerOptions opt)
      : m_router(router),
        m_opt(std::move(opt)),
        m_acceptor(m_io),
        m_signals(m_io),
        m_pool(static_cast<size_t>(std::max(1, m_opt.worker_threads))) {}

  Status listen() {
    beast::error_code ec;
    auto addr = net::ip::make_address(m_opt.host, ec);
    if (ec)
      return make_error(ErrorCode::invalid_argument,
                        "bad --host " + m_opt.host + ": " + ec.message());
    tcp::endpoint ep(addr, m_opt.port);
    m_acceptor.open(ep.protocol(), ec);
    if (!ec)
      m_acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
      m_acceptor.bind(ep, ec);
    if (!ec)
      m_acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error(ErrorCode::io, "cannot listen on " + m_opt.host + ":" +
                                           std::to_string(m_opt.port) + ": " + ec.message());
    }
    m_port = m_acceptor.local_endpoint().port();
    return {};
  }

  uint16_t port() const override { return m_port; }

  void run(bool handle_signals) override {
    if (handle_signals) {
      m_signals.add(SIGINT);
      m_signals.add(SIGTERM);
      m_signals.async_wait([this](beast::error_code ec, int) {
        if (!ec)
          begin_shutdown();
      });
    }
    accept();
    m_io.run();
    m_pool.join();
  }

  void stop() override {
    net::post(m_io, [this] { begin_shutdown(); });
  }

  const api::Router& router() const { return m_router; }
  const HttpServerOptions& options() const { return m_opt; }
  net::thread_pool& pool() { return m_pool; }
  net::io_context& io() { return m_io; }
  bool stopping() const { return m_stopping; }
  void add(Session* s) { m_sessions.insert(s); }
  void remove(Session* s) { m_sessions.erase(s); }

 private:
  void accept() {
    m_acceptor.async_accept(net::make_strand(m_io), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (!m_stopping && ec != net::error::operation_aborted)
          accept();
        return;
      }
      s.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(s), *this)->start();
      if (!m_stopping)
        accept();
    });
  }

  void begin_shutdown() {
    if (m_stopping)
      return;
    m_stopping = true;
    beast::error_code ec;
    m_acceptor.close(ec);
    m_signals.cancel(ec);
    m_router.shutdown();
    // Copy: closing removes sessions from the set.
    std::vector<Session*> sessions(m_sessions.begin(), m_sessions.end());
    for (Session* s : sessions)
      s->close_if_idle();
  }

  const api::Router& m_router;
  HttpServerOptions m_opt;
  net::io_context m_io{1};
  tcp::acceptor m_acceptor;
  net::signal_set m_signals;
  net::thread_pool m_pool;
  uint16_t m_port = 0;
  bool m_stopping = false;  // touched on the io thread only
  std::set<Session*> m_sessions;
};

Session::Session(tcp::socket socket, ServerImpl& server)
    : m_stream(std::move(socket)), m_server(server) {}

void Session::read_header() {
  if (m_server.stopping())
    return close();
  m_server.add(this);
  m_header.emplace();
  m_header->header_limit(64 * 1024);
  // Checked by the body parser, per route. (Not boost::none: Beast 1.74 compares
  // the length against the empty optional and always fails.)
  m_header->body_limit(std::numeric_limits<std::uint64_t>::max());
  m_stream.expires_after(std::chrono::seconds(m_server.options().idle_timeout_s));
  http::async_read_header(
      m_stream, m_buf, *m_header,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

void Session::close_if_idle() {
  if (!m_busy)
    close();
}

void Session::close() {
  if (m_closed)
    return;
  m_closed = true;
  m_server.remove(this);
  beast::error_code ec;
  m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  m_stream.close();
  if (m_upload_fd >= 0)
    ::close(m_upload_fd);
  m_upload_fd = -1;
  if (!m_upload_path.empty())
    ::unlink(m_upload_path.c_str());
  m_guard.reset();
}

bool token_matches(const std::string& header, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (header.size() != prefix.size() + token.size() || header.rfind(prefix, 0) != 0)
    return false;
  return CRYPTO_memcmp(header.data() + prefix.size(), token.data(), token.size()) == 0;
}

// The web UI keeps the token in a SameSite=Strict cookie (so <img> and
// download links carry it too); other sites' pages cannot send it.
bool cookie_token_matches(std::string_view cookies, const std::string& token) {
  while (!cookies.empty()) {
    auto semi = cookies.find(';');
    std::string_view c = cookies.substr(0, semi);
    while (!c.empty() && c.front() == ' ')
      c.remove_prefix(1);
    if (c.starts_with("rh_token=")) {
      std::string value = api::url_decode(c.substr(9), false);
      return value.size() == token.size() &&
             CRYPTO_memcmp(value.data(), token.data(), token.size()) == 0;
    }
    if (semi == std::string_view::npos)
      break;
    cookies.remove_prefix(semi + 1);
  }
  return false;
}

void Session::on_header(beast::error_code ec) {
  if (ec)
    return close();
  m_busy = true;
  m_guard.emplace(m_server.io().get_executor());
  auto& h = m_header->get();
  m_keep_alive = h.keep_alive();
  m_head = h.method() == http::verb::head;
  std::string target(h.target());
  std::string path = api::url_decode(target.substr(0, target.find('?')), false);
  bool has_body = m_header->content_length().value_or(0) > 0 || m_header->chunked();
  m_body_unread = has_body;
  const auto& opt = m_server.options();

  if (!opt.api_token.empty() && path.rfind("/api/", 0) == 0 &&
      !token_matches(std::string(h[http::field::authorization]), opt.api_token) &&
      !cookie_token_matches(std::string(h[http::field::cookie]), opt.api_token)) {
    return reply(api::error_response(Error{ErrorCode::unauthorized,
                                           "missing or wrong API token (send \"Authorization: "
                                           "Bearer <token>\")"}),
                 has_body);
  }
  m_match = m_server.router().match(std::string(h.method_string()), path);
  if (!m_match.handler) {
    Error e = m_match.path_known
                  ? Error{ErrorCode::invalid_argument,
                          std::string(h.method_string()) + " is not allowed on " + path}
                  : Error{ErrorCode::not_found, "no route for " + path};
    auto resp = api::error_response(e);
    if (m_match.path_known)
      resp.status = 405;
    return reply(std::move(resp), has_body);
  }
  uint64_t limit = m_match.stream_body ? opt.max_stream_body_bytes : opt.max_body_bytes;
  if (m_header->content_length().value_or(0) > limit) {
    return reply(api::error_response(
                     Error{ErrorCode::too_large, "request body is larger than the limit of " +
                                                     std::to_string(limit) + " bytes"}),
                 true);
  }
  m_stream.expires_after(std::chrono::seconds(std::max(opt.idle_timeout_s, 600)));
  if (m_match.stream_body) {
    auto file = AtomicFile::create(opt.upload_tmp_dir + "/upload", opt.upload_tmp_dir);
    if (!file)
      return reply(api::error_response(file.error()), true);
    m_upload_path = file->temp_path() + ".body";
    if (!m_header->chunked()) {
      m_upload_fd = ::open(m_upload_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (m_upload_fd < 0) {
        return reply(api::error_response(Error{
                         ErrorCode::io, "cannot stage upload: " + std::string(strerror(errno))}),
                     true);
      }
      m_body_left = m_header->content_length().value_or(0);
      m_chunk.resize(1 << 20);
      m_chunk_fill = 0;
      m_body_sha = std::make_unique<Sha256>();
      // Body bytes that came in with the header.
      size_t have = static_cast<size_t>(std::min<uint64_t>(m_buf.size(), m_body_left));
      net::buffer_copy(net::buffer(m_chunk.data(), have), m_buf.data(), have);
      m_buf.consume(have);
      m_chunk_fill = have;
      m_body_left -= have;
      return read_raw_body();
    }
    m_buf.reserve(k_body_read);
    m_file.emplace(std::move(*m_header));
    m_file->body_limit(opt.max_stream_body_bytes);
    beast::error_code fec;
    m_file->get().body().open(m_upload_path.c_str(), beast::file_mode::write, fec);
    if (fec) {
      return reply(
          api::error_response(Error{ErrorCode::io, "cannot stage upload: " + fec.message()}), true);
    }
    http::async_read(
        m_stream, m_buf, *m_file,
        [self = shared_from_this()](beast::error_code read_ec, size_t) { self->on_body(read_ec); });
  } else {
    m_buf.reserve(k_body_read);
    m_string.emplace(std::move(*m_header));
    m_string->body_limit(opt.max_body_bytes);
    http::async_read(
        m_stream, m_buf, *m_string,
        [self = shared_from_this()](beast::error_code read_ec, size_t) { self->on_body(read_ec); });
  }
}

// Method, path, query and headers (names lowercased) of a parsed request.
template <class Message>
void fill_request(api::HttpRequest& req, const Message& msg) {
  req.method = std::string(msg.method_string());
  std::string target(msg.target());
  auto q = target.find('?');
  req.path = api::url_decode(target.substr(0, q), false);
  if (q != std::string::npos)
    api::parse_query(std::string_view(target).substr(q + 1), req.query);
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(f.value());
  }
}

bool Session::flush_raw_chunk() {
  m_body_sha->update(m_chunk.data(), m_chunk_fill);
  if (!write_all(m_upload_fd, m_chunk.data(), m_chunk_fill))
    return false;
  m_chunk_fill = 0;
  return true;
}

void Session::read_raw_body() {
  if (m_chunk_fill == m_chunk.size() || (m_body_left == 0 && m_chunk_fill > 0)) {
    if (!flush_raw_chunk()) {
      Error e{ErrorCode::io, "cannot stage upload: " + std::string(strerror(errno))};
      m_body_unread = m_body_left > 0;
      return reply(api::error_response(e), true);
    }
  }
  if (m_body_left == 0) {
    ::close(m_upload_fd);
    m_upload_fd = -1;
    m_chunk = {};
    m_body_unread = false;
    api::HttpRequest req;
    fill_request(req, m_header->get());
    req.body_file = m_upload_path;
    req.body_digest = m_body_sha->finish();
    m_body_sha.reset();
    req.params = m_match.params;
    return dispatch(std::move(req));
  }
  size_t room = m_chunk.size() - m_chunk_fill;
  size_t want = static_cast<size_t>(std::min<uint64_t>(room, m_body_left));
  m_stream.expires_after(std::chrono::seconds(m_server.options().idle_timeout_s));
  m_stream.async_read_some(
      net::buffer(m_chunk.data() + m_chunk_fill, want),
      [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_raw_body(ec, n); });
}

void Session::on_raw_body(beast::error_code ec, size_t n) {
  if (ec)
    return close();  // the client went away (or timed out) mid-body
  m_chunk_fill += n;
  m_body_left -= n;
  read_raw_body();
}

void Session::on_body(beast::error_code ec) {
  const auto& opt = m_server.options();
  m_body_unread = ec == http::error::body_limit;
  if (ec == http::error::body_limit) {
    uint64_t limit = m_file ? opt.max_stream_body_bytes : opt.max_body_bytes;
    return reply(api::error_response(
                     Error{ErrorCode::too_large, "request body is larger than the limit of " +
                                                     std::to_string(limit) + " bytes"}),
                 true);
  }
  if (ec)
    return close();
  api::HttpRequest req;
  if (m_file) {
    auto& msg = m_file->get();
    fill_request(req, msg);
    msg.body().close();
    req.body_file = m_upload_path;
  } else {
    auto msg = m_string->release();
    fill_request(req, msg);
    req.body = std::move(msg.body());
  }
  req.params = m_match.params;
  dispatch(std::move(req));
}

void Session::dispatch(api::HttpRequest req) {
  const api::Handler* handler = m_match.handler;
  auto self = shared_from_this();
  net::post(m_server.pool(), [self, handler, req = std::move(req)]() mutable {
    auto respond = [self](api::HttpResponse resp) {
      net::post(self->m_stream.get_executor(),
                [self, resp = std::move(resp)]() mutable { self->reply(std::move(resp), false); });
    };
    try {
      (*handler)(req, respond);
    } catch (const std::exception& e) {
      respond(api::error_response(
          Error{ErrorCode::internal, std::string("handler failed: ") + e.what()}));
    }
  });
}

void Session::reply(api::HttpResponse resp, bool close_after) {
  bool close = close_after || !m_keep_alive || m_server.stopping();
  auto self = shared_from_this();
  m_stream.expires_after(std::chrono::seconds(60));
  auto set_common = [&](auto& msg) {
    msg.version(11);
    msg.result(static_cast<unsigned>(resp.status));
    msg.set(http::field::server, "roundhouse");
    msg.set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers)
      msg.set(k, v);
    msg.keep_alive(!close);
  };
  if (m_head) {
    auto msg = std::make_shared<http::response<http::empty_body>>();
    set_common(*msg);
    msg->content_length(resp.file_path.empty() ? resp.body.size() : resp.file_length);
    http::async_write(m_stream, *msg, [self, msg, close](beast::error_code write_ec, size_t) {
      self->after_write(close || write_ec);
    });
  } else if (!resp.file_path.empty()) {
    auto msg = std::make_shared<http::response<http::file_body>>();
    beast::error_code ec;
    msg->body().open(resp.file_path.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      return reply(api::error_response(Error{ErrorCode::io, "cannot open " + resp.file_path}),
                   close);
    }
    set_common(*msg);
    msg->prepare_payload();
    http::async_write(m_stream, *msg, [self, msg, close](beast::error_code write_ec, size_t) {
      self->after_write(close || write_ec);
    });
  } else {
    auto msg = std::make_shared<http::response<http::string_body>>();
    set_common(*msg);
    msg->body() = std::move(resp.body);
    msg->prepare_payload();
    http::async_write(m_stream, *msg, [self, msg, close](beast::error_code write_ec, size_t) {
      self->after_write(close || write_ec);
    });
  }
}

void Session::after_write(bool close_now) {
  m_busy = false;
  m_guard.reset();
  if (!m_upload_path.empty()) {
    ::unlink(m_upload_path.c_str());
    m_upload_path.clear();
  }
  m_string.reset();
  m_file.reset();
  if (close_now && m_body_unread && !m_closed)
    return linger();
  if (close_now || m_server.stopping())
    return close();
  read_header();
}

void Session::linger() {
  beast::error_code ec;
  m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  m_stream.expires_after(std::chrono::seconds(10));
  if (!m_drain)
    m_drain = std::make_unique<std::array<char, 16384>>();
  m_stream.async_read_some(net::buffer(*m_drain),
                           [self = shared_from_this()](beast::error_code read_ec, size_t) {
                             if (read_ec)
                               return self->close();
                             self->linger();
                           });
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::bind(const api::Router& router,
                                                     HttpServerOptions options) {
  auto s = std::make_unique<ServerImpl>(router, std::move(options));
  RH_TRY(s->listen());
  return std::unique_ptr<HttpServer>(std::move(s));
}

}  // namespace rh

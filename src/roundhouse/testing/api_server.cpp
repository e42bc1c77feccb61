#include "roundhouse/testing/api_server.h"

#include <stdexcept>
#include <thread>

#include "roundhouse/api/routes.h"
#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/server/http_server.h"
#include "roundhouse/store/sqlite/sqlite_store.h"

namespace rh::testing {

struct ApiServer::Impl {
  std::unique_ptr<MetadataStore> store;
  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<api::ApiContext> ctx;
  api::Router router;
  std::unique_ptr<HttpServer> server;
  std::thread thread;
};

ApiServer::ApiServer(const std::string& dir, Env& env) : m_impl(std::make_unique<Impl>()) {
  auto store = open_sqlite_store(dir + "/rh.db", env);
  if (!store)
    throw std::runtime_error(store.error().to_string());
  m_impl->store = std::move(*store);
  auto blobs = LocalBlobStore::open(dir + "/blobs");
  if (!blobs)
    throw std::runtime_error(blobs.error().to_string());
  m_impl->blobs = std::move(*blobs);
  m_impl->ctx =
      std::make_unique<api::ApiContext>(api::ApiContext{*m_impl->store, *m_impl->blobs, "test"});
  api::add_api_routes(m_impl->router, *m_impl->ctx);
  HttpServerOptions opt;
  opt.upload_tmp_dir = dir + "/blobs/tmp";
  auto server = HttpServer::bind(m_impl->router, opt);
  if (!server)
    throw std::runtime_error(server.error().to_string());
  m_impl->server = std::move(*server);
  m_impl->thread = std::thread([impl = m_impl.get()] { impl->server->run(false); });
}

ApiServer::~ApiServer() {
  stop();
}

std::string ApiServer::url() const {
  return "http://127.0.0.1:" + std::to_string(m_impl->server->port());
}

MetadataStore& ApiServer::store() {
  return *m_impl->store;
}
BlobStore& ApiServer::blobs() {
  return *m_impl->blobs;
}

void ApiServer::stop() {
  if (!m_impl->thread.joinable())
    return;
  m_impl->server->stop();
  m_impl->thread.join();
  m_impl->store->close();
}

}  // namespace rh::testing

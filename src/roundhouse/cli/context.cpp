#include "roundhouse/cli/context.h"

#include <signal.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/client/remote_store.h"
#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/util/fs.h"

namespace rh::cli {

Context::~Context() {
  if (m_store)
    m_store->close();
}

Result<Config*> Context::config() {
  if (!m_config) {
    RH_TRY_ASSIGN(Config c, load_config(data_dir_flag));
    m_config = std::make_unique<Config>(std::move(c));
  }
  return m_config.get();
}

Status Context::open() {
  if (m_store)
    return {};
  RH_TRY_ASSIGN(Config * c, config());
  if (!c->server.empty()) {
    RH_TRY_ASSIGN(auto remote, open_remote(c->server, c->api_token));
    m_store = std::move(remote.store);
    m_blobs = std::move(remote.blobs);
    m_remote = true;
    m_url = c->server;
    return {};
  }
  RH_TRY(make_dirs(c->data_dir));
  // A server already running on this data folder (its discovery file names a
  // live process): go through it, so its live pages and waiting agents see
  // the change at once. Otherwise the embedded store directly.
  if (auto text = read_file(c->data_dir + "/server.json")) {
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object() && j.value("url", "").starts_with("http") && j.value("pid", 0) > 0 &&
        ::kill(j.value("pid", 0), 0) == 0) {
      if (auto remote = open_remote(j.value("url", ""), c->api_token)) {
        m_store = std::move(remote->store);
        m_blobs = std::move(remote->blobs);
        m_remote = true;
        m_url = j.value("url", "");
        return {};
      }
    }
  }
  RH_TRY_ASSIGN(m_store, open_sqlite_store(c->data_dir + "/rh.db", env));
  RH_TRY_ASSIGN(auto blobs, LocalBlobStore::open(c->data_dir + "/blobs"));
  m_blobs = std::move(blobs);
  return {};
}

Result<std::string> Context::server_url() {
  RH_TRY(open());
  if (!m_remote) {
    return make_error(ErrorCode::invalid_argument,
                      "experiments run on agents through a server: start one (rh server) or set "
                      "RH_SERVER; to try a config on this machine use --local --test");
  }
  return m_url;
}

Result<MetadataStore*> Context::store() {
  RH_TRY(open());
  return m_store.get();
}

Result<BlobStore*> Context::blobs() {
  RH_TRY(open());
  return m_blobs.get();
}

Result<bool> Context::is_remote() {
  RH_TRY(open());
  return m_remote;
}

Result<LocalBlobStore*> Context::local_cache() {
  RH_TRY(open());
  if (!m_remote)
    return static_cast<LocalBlobStore*>(m_blobs.get());
  if (!m_cache) {
    RH_TRY_ASSIGN(Config * c, config());
    RH_TRY_ASSIGN(m_cache, LocalBlobStore::open(c->data_dir + "/cache/blobs"));
  }
  return m_cache.get();
}

Result<std::string> Context::resolve_dataset(const std::string& id) {
  RH_TRY_ASSIGN(MetadataStore * s, store());
  return s->datasets().resolve(id);
}

Result<std::string> Context::resolve_task(const std::string& id) {
  RH_TRY_ASSIGN(MetadataStore * s, store());
  return s->tasks().resolve(id);
}

void guard(const std::function<Status()>& fn) {
  if (auto st = fn(); !st)
    throw CLI::RuntimeError(report(st.error()));
}

int report(const Error& e) {
  std::fprintf(stderr, "rh: %s\n", e.message.c_str());
  switch (e.code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::ambiguous:
      return 2;
    case ErrorCode::not_found:
      return 3;
    default:
      return 1;
  }
}

}  // namespace rh::cli

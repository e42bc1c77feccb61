#include "roundhouse/cli/context.h"

#include <cstdio>

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
    return {};
  }
  RH_TRY(make_dirs(c->data_dir));
  RH_TRY_ASSIGN(m_store, open_sqlite_store(c->data_dir + "/rh.db", env));
  RH_TRY_ASSIGN(auto blobs, LocalBlobStore::open(c->data_dir + "/blobs"));
  m_blobs = std::move(blobs);
  return {};
}

Result<MetadataStore*> Context::store() {
  RH_TRY(open());
  return m_store.get();
}

Result<BlobStore*> Context::blobs() {
  RH_TRY(open());
  return m_blobs.get();
}

Result<std::string> Context::resolve_task(const std::string& id) {
  RH_TRY_ASSIGN(MetadataStore * s, store());
  return s->tasks().resolve(id);
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

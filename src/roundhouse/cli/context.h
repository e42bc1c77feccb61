// What every command works against: the configuration and the stores,
// either the embedded ones in the data folder or a remote rh server
// (RH_SERVER), behind the same MetadataStore/BlobStore interfaces.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/cli/config.h"
#include "roundhouse/env/env.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::cli {

class Context {
 public:
  std::string data_dir_flag;  // set by the global --data-dir option
  RealEnv env;

  Result<Config*> config();
  // Opens the stores on first use.
  Result<MetadataStore*> store();
  Result<BlobStore*> blobs();
  // Talking to a server (not the embedded store)?
  Result<bool> is_remote();
  // The server's URL; invalid_argument saying how to start one when the
  // commands would use the embedded store (experiments need a server).
  Result<std::string> server_url();
  // The local read-only content cache for datasets: the embedded blob folder
  // itself, or <data dir>/cache/blobs in front of a server.
  Result<LocalBlobStore*> local_cache();
  // Task ID from a full ID or unique prefix.
  Result<std::string> resolve_task(const std::string& id_or_prefix);
  // Dataset version ID from a full ID or unique prefix.
  Result<std::string> resolve_dataset(const std::string& id_or_prefix);
  ~Context();

 private:
  Status open();
  std::unique_ptr<Config> m_config;
  std::unique_ptr<MetadataStore> m_store;
  std::unique_ptr<BlobStore> m_blobs;
  bool m_remote = false;
  std::string m_url;
  std::unique_ptr<LocalBlobStore> m_cache;
};

// Prints "rh: <message>" to stderr and returns the exit status for the error.
int report(const Error& e);
// Runs a command's body; an error is reported and becomes the exit status
// (through CLI11's RuntimeError).
void guard(const std::function<Status()>& fn);

}  // namespace rh::cli

// What every command works against: the configuration and the stores,
// either the embedded ones in the data folder or a remote rh server
// (RH_SERVER), behind the same MetadataStore/BlobStore interfaces.
#pragma once

#include <memory>
#include <string>

#include "roundhouse/blob/blob_store.h"
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
  // Task ID from a full ID or unique prefix.
  Result<std::string> resolve_task(const std::string& id_or_prefix);
  ~Context();

 private:
  Status open();
  std::unique_ptr<Config> m_config;
  std::unique_ptr<MetadataStore> m_store;
  std::unique_ptr<BlobStore> m_blobs;
};

// Prints "rh: <message>" to stderr and returns the exit status for the error.
int report(const Error& e);

}  // namespace rh::cli

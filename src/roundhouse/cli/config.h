// Configuration: flags > environment (RH_*) > config file > defaults, one
// table of keys (the README's Configuration section). The config file is
// $RH_CONFIG or <data dir>/config.yaml, a flat YAML map of the keys below.
#pragma once

#include <cstdint>
#include <string>

#include "roundhouse/util/error.h"

namespace rh::cli {

struct Config {
  std::string data_dir;   // data_dir / RH_DATA_DIR; default ~/.roundhouse
  std::string server;     // server / RH_SERVER: URL of an rh server; empty = embedded store
  std::string api_token;  // api_token / RH_API_TOKEN
  std::string host = "127.0.0.1";         // host / RH_HOST (rh server)
  int port = 8690;                        // port / RH_PORT (rh server)
  uint64_t max_body_bytes = 64ull << 20;  // max_body_mb / RH_MAX_BODY_MB
};

inline constexpr int k_default_port = 8690;

// Reads the file and environment over the defaults; data_dir_flag, when set,
// wins over both for locating the data folder (and its config file).
Result<Config> load_config(const std::string& data_dir_flag);

}  // namespace rh::cli

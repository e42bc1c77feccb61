#include "roundhouse/cli/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

Status apply(Config& c, const std::string& key, const std::string& value,
             const std::string& where) {
  auto bad = [&](const char* what) {
    return make_error(ErrorCode::invalid_argument,
                      where + ": " + key + " " + what + ", got \"" + value + "\"");
  };
  if (key == "data_dir") {
    c.data_dir = value;
  } else if (key == "server") {
    c.server = value;
  } else if (key == "api_token") {
    c.api_token = value;
  } else if (key == "host") {
    c.host = value;
  } else if (key == "port") {
    auto v = parse_int(value);
    if (!v || *v < 0 || *v > 65535)
      return bad("must be a port number 0..65535");
    c.port = static_cast<int>(*v);
  } else if (key == "max_body_mb") {
    auto v = parse_int(value);
    if (!v || *v < 1 || *v > 65536)
      return bad("must be a whole number of MiB, 1..65536");
    c.max_body_bytes = static_cast<uint64_t>(*v) << 20;
  } else {
    return make_error(ErrorCode::invalid_argument,
                      where + ": unknown key \"" + key +
                          "\" (known: data_dir, server, api_token, host, port, max_body_mb)");
  }
  return {};
}

}  // namespace

Result<Config> load_config(const std::string& data_dir_flag) {
  Config c;
  c.data_dir = home_dir() + "/.roundhouse";
  if (const char* v = env("RH_DATA_DIR"))
    c.data_dir = v;
  if (!data_dir_flag.empty())
    c.data_dir = data_dir_flag;

  std::string file = env("RH_CONFIG") ? env("RH_CONFIG") : c.data_dir + "/config.yaml";
  if (path_exists(file)) {
    try {
      YAML::Node root = YAML::LoadFile(file);
      if (root && !root.IsNull()) {
        if (!root.IsMap()) {
          return make_error(ErrorCode::invalid_argument, file + ": must be a map of key: value");
        }
        for (const auto& kv : root) {
          std::string key = kv.first.as<std::string>();
          if (!kv.second.IsScalar()) {
            return make_error(ErrorCode::invalid_argument, file + ": " + key + " must be a scalar");
          }
          RH_TRY(apply(c, key, kv.second.as<std::string>(), file));
        }
      }
    } catch (const YAML::Exception& e) {
      return make_error(ErrorCode::invalid_argument, file + ": " + e.what());
    }
  }
  struct {
    const char* var;
    const char* key;
  } vars[] = {{"RH_SERVER", "server"},
              {"RH_API_TOKEN", "api_token"},
              {"RH_HOST", "host"},
              {"RH_PORT", "port"},
              {"RH_MAX_BODY_MB", "max_body_mb"}};
  for (const auto& v : vars) {
    if (const char* val = env(v.var))
      RH_TRY(apply(c, v.key, val, std::string("environment ") + v.var));
  }
  if (!data_dir_flag.empty())
    c.data_dir = data_dir_flag;  // the flag beats the file's data_dir
  return c;
}

}  // namespace rh::cli

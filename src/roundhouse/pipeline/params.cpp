#include "roundhouse/pipeline/params.h"

#include <yaml-cpp/yaml.h>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/yaml_json.h"

namespace rh::pipeline {

namespace {

Json toml_to_json(const toml::node& n) {
  if (const auto* t = n.as_table()) {
    Json o = Json::object();
    for (const auto& [k, v] : *t)
      o[std::string(k.str())] = toml_to_json(v);
    return o;
  }
  if (const auto* a = n.as_array()) {
    Json out = Json::array();
    for (const auto& v : *a)
      out.push_back(toml_to_json(v));
    return out;
  }
  if (const auto* s = n.as_string())
    return s->get();
  if (const auto* i = n.as_integer())
    return i->get();
  if (const auto* f = n.as_floating_point())
    return f->get();
  if (const auto* b = n.as_boolean())
    return b->get();
  std::ostringstream os;  // dates and times: as TOML writes them
  if (const auto* d = n.as_date())
    os << d->get();
  else if (const auto* t = n.as_time())
    os << t->get();
  else if (const auto* dt = n.as_date_time())
    os << dt->get();
  return os.str();
}

}  // namespace

Result<Json> read_params(const std::string& path) {
  if (!path_exists(path))
    return make_error(ErrorCode::not_found, path + " does not exist");
  RH_TRY_ASSIGN(std::string text, read_file(path));
  return parse_params(path, text);
}

Result<Json> parse_params(const std::string& path, const std::string& text) {
  std::string ext = path.substr(
      path.find_last_of('.') == std::string::npos ? path.size() : path.find_last_of('.'));
  Json out;
  if (ext == ".json") {
    out = Json::parse(text, nullptr, false);
    if (out.is_discarded())
      return make_error(ErrorCode::invalid_argument, path + ": not valid JSON");
  } else if (ext == ".toml") {
    try {
      out = toml_to_json(toml::parse(text, path));
    } catch (const toml::parse_error& e) {
      return make_error(
          ErrorCode::invalid_argument,
          path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
  } else if (ext == ".py") {
    return make_error(ErrorCode::invalid_argument,
                      path + ": Python parameter files are not read; use YAML, JSON or TOML");
  } else {
    try {
      YAML::Node n = YAML::Load(text);
      out = n.IsNull() ? Json::object() : yaml_to_json(n);
    } catch (const YAML::Exception& e) {
      return make_error(ErrorCode::invalid_argument,
                        path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
  }
  if (!out.is_object())
    return make_error(ErrorCode::invalid_argument, path + ": the top level must be a mapping");
  return out;
}

namespace {

void order_of(const YAML::Node& n, const std::string& at, KeyOrder& out) {
  if (n.IsSequence() && n.size() > 0)
    order_of(n[0], at + "[0]", out);
  if (!n.IsMap())
    return;
  auto& keys = out[at];
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    keys.push_back(k);
    order_of(kv.second, at.empty() ? k : at + "." + k, out);
  }
}

void order_of(const nlohmann::ordered_json& j, const std::string& at, KeyOrder& out) {
  if (j.is_array() && !j.empty())
    order_of(j[0], at + "[0]", out);
  if (!j.is_object())
    return;
  auto& keys = out[at];
  for (const auto& [k, v] : j.items()) {
    keys.push_back(k);
    order_of(v, at.empty() ? k : at + "." + k, out);
  }
}

}  // namespace

Result<KeyOrder> read_key_order(const std::string& path) {
  RH_TRY_ASSIGN(std::string text, read_file(path));
  return key_order_of(path, text);
}

KeyOrder key_order_of(const std::string& path, const std::string& text) {
  KeyOrder out;
  if (path.ends_with(".json")) {
    auto j = nlohmann::ordered_json::parse(text, nullptr, false);
    if (!j.is_discarded())
      order_of(j, "", out);
  } else if (!path.ends_with(".toml") && !path.ends_with(".py")) {
    try {
      order_of(YAML::Load(text), "", out);
    } catch (const YAML::Exception&) {
    }
  }
  return out;
}

const Json* find_key(const Json& params, const std::string& dotted) {
  if (params.is_object() && params.contains(dotted))
    return &params[dotted];  // a key with dots in its own name
  const Json* at = &params;
  for (const auto& part : split(dotted, '.')) {
    if (!at->is_object() || !at->contains(part))
      return nullptr;
    at = &(*at)[part];
  }
  return at;
}

}  // namespace rh::pipeline

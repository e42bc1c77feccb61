#include "roundhouse/util/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <nlohmann/json.hpp>

namespace rh {

Json yaml_to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    Json o = Json::object();
    for (const auto& kv : n)
      o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    return o;
  }
  if (n.IsSequence()) {
    Json a = Json::array();
    for (const auto& v : n)
      a.push_back(yaml_to_json(v));
    return a;
  }
  if (!n.IsScalar())
    return nullptr;
  const std::string& s = n.Scalar();
  if (n.Tag() == "!")
    return s;
  if (s == "~" || s == "null" || s == "Null" || s == "NULL")
    return nullptr;
  if (s == "true" || s == "True" || s == "TRUE")
    return true;
  if (s == "false" || s == "False" || s == "FALSE")
    return false;
  int64_t i = 0;
  if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      ec == std::errc() && p == s.data() + s.size() && !s.empty())
    return i;
  double d = 0;
  if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      ec == std::errc() && p == s.data() + s.size() && !s.empty() &&
      s.find_first_of("0123456789") != std::string::npos)
    return d;
  return s;
}

}  // namespace rh

// INI files as DVC's (and git's) config files are written: `[section]` or
// `['remote "name"']` headers, `key = value` lines, `#`/`;` comments, values
// and section names with their quotes taken off. Read by the remote config
// (.rh/config, .dvc/config) and the repository layout (DVC's cache.dir).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh::pipeline {

// s trimmed, without the quotes around it where it has them.
std::string unquote(std::string_view s);

// One INI file: sections in order, each with its keys in order.
struct Section {
  std::string name;  // "core", `remote "x"`
  std::vector<std::pair<std::string, std::string>> keys;
};

// Errors name `shown` and the line.
Result<std::vector<Section>> parse_ini(const std::string& text, const std::string& shown);
// No file: no sections.
Result<std::vector<Section>> read_ini(const std::string& path, const std::string& shown);
std::string write_ini(const std::vector<Section>& sections);

// The last value of `key` in the sections named `section` ("" when none).
std::string ini_value(const std::vector<Section>& sections, const std::string& section,
                      const std::string& key);

}  // namespace rh::pipeline

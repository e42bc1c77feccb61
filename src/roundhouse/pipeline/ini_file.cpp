#include "roundhouse/pipeline/ini_file.h"

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::pipeline {

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return std::string(s);
}

Result<std::vector<Section>> parse_ini(const std::string& text, const std::string& shown) {
  std::vector<Section> out;
  int line_no = 0;
  for (const auto& raw : split(text, '\n')) {
    ++line_no;
    std::string line(trim(raw));
    if (line.empty() || line[0] == '#' || line[0] == ';')
      continue;
    if (line.front() == '[') {
      if (line.back() != ']')
        return make_error(ErrorCode::invalid_argument,
                          shown + ":" + std::to_string(line_no) + ": a section ends with ]");
      out.push_back(Section{unquote(line.substr(1, line.size() - 2)), {}});
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos || out.empty())
      return make_error(
          ErrorCode::invalid_argument,
          shown + ":" + std::to_string(line_no) + ": expected `key = value` inside a [section]");
    out.back().keys.emplace_back(std::string(trim(line.substr(0, eq))),
                                 unquote(line.substr(eq + 1)));
  }
  return out;
}

Result<std::vector<Section>> read_ini(const std::string& path, const std::string& shown) {
  if (!path_exists(path))
    return std::vector<Section>{};
  RH_TRY_ASSIGN(std::string text, read_file(path));
  return parse_ini(text, shown);
}

std::string write_ini(const std::vector<Section>& sections) {
  std::string out;
  for (const auto& s : sections) {
    bool quoted = s.name.find(' ') != std::string::npos;
    out += quoted ? "['" + s.name + "']\n" : "[" + s.name + "]\n";
    for (const auto& [k, v] : s.keys)
      out += "    " + k + " = " + v + "\n";
  }
  return out;
}

std::string ini_value(const std::vector<Section>& sections, const std::string& section,
                      const std::string& key) {
  std::string v;
  for (const auto& s : sections)
    if (s.name == section)
      for (const auto& [k, x] : s.keys)
        if (k == key)
          v = x;
  return v;
}

}  // namespace rh::pipeline

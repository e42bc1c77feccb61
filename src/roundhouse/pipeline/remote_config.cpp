#include "roundhouse/pipeline/remote_config.h"

#include <filesystem>

#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

// s trimmed, without the quotes around it where it has them.
std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return std::string(s);
}

// One INI file: sections in order, each with its keys in order.
struct Section {
  std::string name;  // "core", `remote "x"`
  std::vector<std::pair<std::string, std::string>> keys;
};

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

// `remote "x"` -> x
std::string remote_name(const std::string& section) {
  if (!section.starts_with("remote ") || section.size() < 9)
    return {};
  return unquote(section.substr(7));
}

RemoteSpec spec(const std::string& root, const std::string& file, const std::string& name,
                const std::string& url) {
  RemoteSpec r{name, url, file, RemoteSpec::Kind::folder, {}};
  if (url.starts_with("http://") || url.starts_with("https://")) {
    r.kind = RemoteSpec::Kind::server;
    r.location = url;
    while (r.location.size() > 8 && r.location.back() == '/')
      r.location.pop_back();
  } else if (url.find("://") != std::string::npos) {
    r.kind = url.starts_with("file://") ? RemoteSpec::Kind::folder : RemoteSpec::Kind::other;
    r.location = url.starts_with("file://") ? url.substr(7) : url;
  } else {
    fs::path p(url);
    if (p.is_relative())
      p = fs::path(root) / fs::path(file).parent_path() / p;
    r.location = p.lexically_normal().string();
    while (r.location.size() > 1 && r.location.back() == '/')
      r.location.pop_back();
  }
  return r;
}

Status add_from(const std::string& root, const std::string& file, const std::string& text,
                RemoteConfig& c, bool take_default) {
  RH_TRY_ASSIGN(auto sections, parse_ini(text, file));
  for (const auto& s : sections) {
    if (s.name == "core") {
      for (const auto& [k, v] : s.keys)
        if (k == "remote" && (take_default || c.default_name.empty()))
          c.default_name = v;
      continue;
    }
    std::string name = remote_name(s.name);
    if (name.empty())
      continue;
    bool known = false;
    for (const auto& r : c.remotes)
      known = known || r.name == name;
    if (known)
      continue;
    for (const auto& [k, v] : s.keys)
      if (k == "url")
        c.remotes.push_back(spec(root, file, name, v));
  }
  return {};
}

const char* k_rh_config = ".rh/config";

// `[core] remote = name`, the section made first when there is none.
void set_default_in(std::vector<Section>& sections, const std::string& name) {
  for (auto& s : sections) {
    if (s.name != "core")
      continue;
    for (auto& [k, v] : s.keys)
      if (k == "remote") {
        v = name;
        return;
      }
    s.keys.emplace_back("remote", name);
    return;
  }
  sections.insert(sections.begin(), Section{"core", {{"remote", name}}});
}

}  // namespace

Result<RemoteSpec> RemoteConfig::pick(const std::string& name) const {
  std::string want = name.empty() ? default_name : name;
  std::vector<std::string> names;
  for (const auto& r : remotes) {
    if (r.name == want) {
      if (r.kind == RemoteSpec::Kind::other)
        return make_error(ErrorCode::invalid_argument,
                          "remote '" + r.name + "' (" + r.url + ", in " + r.file +
                              "): only local folders and rh servers (http://, https://) are "
                              "remotes so far");
      return r;
    }
    names.push_back(r.name);
  }
  if (want.empty())
    return make_error(ErrorCode::not_found,
                      names.empty() ? "no remote: add one with `rh remote add -d NAME URL`"
                                    : "no default remote: name one with -r (" + join(names, ", ") +
                                          ") or set `rh remote default NAME`");
  return make_error(
      ErrorCode::not_found,
      "no remote named '" + want + "'" +
          (names.empty() ? std::string() : " (there are: " + join(names, ", ") + ")"));
}

Result<RemoteConfig> read_remote_config(const std::string& root) {
  return remote_config_from(root, [&](const std::string& file) -> Result<std::string> {
    if (!path_exists(root + "/" + file))
      return std::string();
    return read_file(root + "/" + file);
  });
}

Result<RemoteConfig> remote_config_from(
    const std::string& root,
    const std::function<Result<std::string>(const std::string&)>& text_of) {
  RemoteConfig c;
  for (const char* file : {k_rh_config, ".dvc/config.local", ".dvc/config"}) {
    RH_TRY_ASSIGN(std::string text, text_of(file));
    RH_TRY(add_from(root, file, text, c, file == std::string(k_rh_config)));
  }
  return c;
}

Status add_remote(const std::string& root, const std::string& cwd, const std::string& name,
                  const std::string& url, bool make_default, bool force) {
  if (name.empty() || name.find_first_of("\"'[]\n") != std::string::npos)
    return make_error(ErrorCode::invalid_argument,
                      "remote name '" + name + "': use letters, digits, - and _");
  std::string written = url;
  if (url.find("://") == std::string::npos) {
    fs::path p = fs::path(url).is_absolute() ? fs::path(url) : fs::path(cwd) / url;
    p = p.lexically_normal();
    written = fs::path(url).is_absolute()
                  ? p.string()
                  : p.lexically_relative(fs::path(root) / ".rh").generic_string();
  }
  RH_TRY_ASSIGN(auto sections, read_ini(root + "/" + k_rh_config, k_rh_config));
  std::string section = "remote \"" + name + "\"";
  bool done = false;
  for (auto& s : sections) {
    if (s.name != section)
      continue;
    if (!force)
      return make_error(ErrorCode::already_exists,
                        "remote '" + name + "' exists in .rh/config (use -f to replace it)");
    s.keys = {{"url", written}};
    done = true;
  }
  if (!done)
    sections.push_back(Section{section, {{"url", written}}});
  if (make_default)
    set_default_in(sections, name);
  RH_TRY(make_dirs(root + "/.rh"));
  return write_file_atomic(root + "/" + k_rh_config, write_ini(sections));
}

Status set_default_remote(const std::string& root, const std::string& name) {
  RH_TRY_ASSIGN(RemoteConfig c, read_remote_config(root));
  RH_TRY(c.pick(name));
  RH_TRY_ASSIGN(auto sections, read_ini(root + "/" + k_rh_config, k_rh_config));
  set_default_in(sections, name);
  RH_TRY(make_dirs(root + "/.rh"));
  return write_file_atomic(root + "/" + k_rh_config, write_ini(sections));
}

Status remove_remote(const std::string& root, const std::string& name) {
  RH_TRY_ASSIGN(auto sections, read_ini(root + "/" + k_rh_config, k_rh_config));
  std::string section = "remote \"" + name + "\"";
  size_t before = sections.size();
  std::erase_if(sections, [&](const Section& s) { return s.name == section; });
  if (sections.size() == before)
    return make_error(ErrorCode::not_found, "no remote named '" + name + "' in .rh/config");
  for (auto& s : sections)
    if (s.name == "core")
      std::erase_if(s.keys,
                    [&](const auto& kv) { return kv.first == "remote" && kv.second == name; });
  return write_file_atomic(root + "/" + k_rh_config, write_ini(sections));
}

}  // namespace rh::pipeline

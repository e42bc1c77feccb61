#include "roundhouse/pipeline/remote_config.h"

#include <filesystem>

#include "roundhouse/pipeline/ini_file.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

// `remote "x"` -> x
std::string remote_name(const std::string& section) {
  if (!section.starts_with("remote ") || section.size() < 9)
    return {};
  return unquote(section.substr(7));
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
        c.remotes.push_back(remote_spec(name, v, root, file));
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

RemoteSpec remote_spec(const std::string& name, const std::string& url, const std::string& root,
                       const std::string& file) {
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

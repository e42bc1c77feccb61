// Where a repository's cached data is pushed to and pulled from: named
// remotes in .rh/config (committed; INI as DVC's config, so one reader
// serves both: `[core]` with `remote = NAME` for the default, and
// `['remote "NAME"']` sections with `url = ...`), plus the remotes of DVC's
// .dvc/config and .dvc/config.local, read as they are (a name in .rh/config
// wins, as does its default). A relative url is relative to the folder of
// the file naming it, as DVC resolves it. Kinds: a local folder (DVC's
// remote layout, files/md5/..., so DVC pulls from it too) and an `rh server`
// (http:// or https://). Other schemes are named in the error when used.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh::pipeline {

struct RemoteSpec {
  std::string name;
  std::string url;   // as written
  std::string file;  // the config file naming it, from the root
  enum class Kind { folder, server, other } kind = Kind::folder;
  std::string location;  // a folder's absolute path, or the server's URL
};

struct RemoteConfig {
  std::vector<RemoteSpec> remotes;  // .rh/config's first, then DVC's
  std::string default_name;
  // `name` ("" = the default); errors say which names there are.
  Result<RemoteSpec> pick(const std::string& name) const;
};

Result<RemoteConfig> read_remote_config(const std::string& root);

// The remote a url names: http(s):// an rh server, file:// or a path a
// folder (a relative one from the folder of `file`, itself from `root`),
// any other scheme `other`.
RemoteSpec remote_spec(const std::string& name, const std::string& url,
                       const std::string& root = "", const std::string& file = "");
// The same with each file's text from `text_of` (its path from the root;
// empty text: no such file), e.g. git at a revision; relative urls are
// resolved against `root` all the same.
Result<RemoteConfig> remote_config_from(
    const std::string& root, const std::function<Result<std::string>(const std::string&)>& text_of);

// `rh remote add NAME URL [-d] [-f]`: a folder url given relative to `cwd`
// is written relative to .rh/. An existing name is refused unless `force`.
Status add_remote(const std::string& root, const std::string& cwd, const std::string& name,
                  const std::string& url, bool make_default, bool force);
// `rh remote default NAME` (the name must exist in either file).
Status set_default_remote(const std::string& root, const std::string& name);
// `rh remote remove NAME` (only .rh/config's).
Status remove_remote(const std::string& root, const std::string& name);

}  // namespace rh::pipeline

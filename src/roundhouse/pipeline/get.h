// `rh get REPO PATH [--rev REV] [-o OUT] [--force]`: a file or folder of any
// revision of a git repository (a local path or a URL git clones), without
// the destination being a repository. A path that revision's lock or
// tracked data files name (or a path inside such a folder) comes from the
// repository's own cache when it is local and holds it, else from the
// remote that revision's config names (.rh/config, .dvc/config), each
// object checked against its md5; a path git holds comes from git. The
// result is plain writable files, written beside OUT and moved into place
// whole; an existing OUT is refused unless `force`.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "roundhouse/pipeline/remote.h"
#include "roundhouse/pipeline/remote_config.h"

namespace rh::pipeline {

struct GetRequest {
  std::string repo;  // a local path or a URL
  std::string path;  // in the repository, from its top
  std::string rev;   // empty: HEAD (of the default branch)
  std::string out;   // destination; empty: the path's last part, here
  bool force = false;
  std::string remote;  // a remote name; empty: that revision's default
};

struct GetResult {
  std::string out;
  bool from_git = false;  // a file git holds (else cached data)
  uint64_t files = 0, bytes_fetched = 0;
};

using OpenRemote = std::function<Result<std::unique_ptr<ObjectRemote>>(const RemoteSpec&)>;

Result<GetResult> get_from_repo(const GetRequest& r, const OpenRemote& open_remote);

}  // namespace rh::pipeline

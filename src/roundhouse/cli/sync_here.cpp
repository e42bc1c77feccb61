#include "roundhouse/cli/sync_here.h"

#include <set>

#include "roundhouse/cli/config.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/client/remote_store.h"
#include "roundhouse/env/process.h"
#include "roundhouse/pipeline/server_remote.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

Result<SyncHere> sync_here(Context& ctx, const TrackHere& h, const std::string& remote_name) {
  RH_TRY_ASSIGN(auto cfg, pipeline::read_remote_config(h.layout.root));
  RH_TRY_ASSIGN(auto spec, cfg.pick(remote_name));
  return open_remote_spec(ctx, spec);
}

Result<SyncHere> open_remote_spec(Context& ctx, const pipeline::RemoteSpec& spec) {
  SyncHere s;
  s.spec = spec;
  if (s.spec.kind == pipeline::RemoteSpec::Kind::folder) {
    s.remote = pipeline::folder_remote(s.spec.location);
    return s;
  }
  RH_TRY_ASSIGN(Config * c, ctx.config());
  auto opened = open_remote(s.spec.location, c->api_token);
  if (!opened)
    return make_error(opened.error().code, "remote '" + s.spec.name + "' (" + s.spec.url +
                                               "): " + opened.error().message);
  auto stores = std::make_shared<RemoteStores>(std::move(*opened));
  s.remote = pipeline::server_remote(s.spec.location, *stores->store, *stores->blobs);
  s.keep = stores;
  return s;
}

Result<std::vector<pipeline::DataEntry>> data_to_sync(const TrackHere& h,
                                                      const std::vector<std::string>& targets,
                                                      bool all_branches, bool all_tags) {
  RH_TRY_ASSIGN(auto entries, pipeline::workspace_data(h.layout, h.project.get(), targets));
  if (!all_branches && !all_tags)
    return entries;
  if (!targets.empty())
    return make_error(ErrorCode::invalid_argument,
                      "-a and -T take every entry of each revision: name no targets with them");
  std::vector<std::string> refs;
  if (all_branches)
    refs.push_back("refs/heads");
  if (all_tags)
    refs.push_back("refs/tags");
  std::vector<std::string> argv{"git", "for-each-ref", "--format=%(refname)"};
  argv.insert(argv.end(), refs.begin(), refs.end());
  RH_TRY_ASSIGN(auto git, run_capture(argv, h.layout.root, 60000));
  if (git.exit_code != 0)
    return make_error(ErrorCode::invalid_argument, "git for-each-ref failed in " + h.layout.root);
  std::string lock = h.project ? h.project->lock_path : std::string();
  std::set<std::string> seen;
  for (const auto& e : entries)
    seen.insert(e.lp.md5);
  for (const auto& ref : split(git.out, '\n')) {
    if (ref.empty())
      continue;
    RH_TRY_ASSIGN(auto more,
                  pipeline::revision_data(h.layout, lock.empty() ? "dvc.lock" : lock, ref));
    for (auto& e : more)
      if (seen.insert(e.lp.md5).second)
        entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace rh::cli

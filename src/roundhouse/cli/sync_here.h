// What push, pull, fetch and `status -c` work with: the remote picked by
// -r (or the default), opened (a folder, or an rh server through the REST
// client with the configured API token), and the entries to move: the
// workspace's, plus with -a / -T every branch's / tag's as git holds them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "roundhouse/cli/track_here.h"
#include "roundhouse/pipeline/data_entries.h"
#include "roundhouse/pipeline/remote.h"
#include "roundhouse/pipeline/remote_config.h"

namespace rh::cli {

class Context;

struct SyncHere {
  pipeline::RemoteSpec spec;
  std::shared_ptr<void> keep;  // the server's stores, when the remote is one
  std::unique_ptr<pipeline::ObjectRemote> remote;
};

Result<SyncHere> sync_here(Context& ctx, const TrackHere& h, const std::string& remote_name);
// The remote a spec names, opened.
Result<SyncHere> open_remote_spec(Context& ctx, const pipeline::RemoteSpec& spec);

// Entries of the same content from several revisions are kept once.
Result<std::vector<pipeline::DataEntry>> data_to_sync(const TrackHere& h,
                                                      const std::vector<std::string>& targets,
                                                      bool all_branches, bool all_tags);

// `rh status -c [-r NAME]`: per entry, whether the cache and the remote
// each hold its content.
Status cloud_status(Context& ctx, const std::vector<std::string>& targets,
                    const std::string& remote, bool json, bool quiet);

}  // namespace rh::cli

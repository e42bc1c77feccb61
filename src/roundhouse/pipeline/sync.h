// Moving a repository's cached data (data_entries.h) between the local
// cache and a remote (remote.h): push sends what the remote lacks, fetch
// brings what the cache lacks (a folder's listing first, then the files it
// names), and compare says, per entry, whether each side has all of it —
// `rh status -c`. Entries whose content neither side has are reported, not
// sent.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/pipeline/data_entries.h"
#include "roundhouse/pipeline/remote.h"

namespace rh::pipeline {

struct SyncReport {
  uint64_t sent = 0;     // objects moved
  uint64_t already = 0;  // objects the other side had
  uint64_t bytes = 0;
  std::vector<std::string> unavailable;  // entries (rel) whose content the source lacks
};

Result<SyncReport> push_entries(const std::vector<DataEntry>& entries,
                                const std::string& cache_root, ObjectRemote& remote,
                                const TransferProgress& progress);

Result<SyncReport> fetch_entries(const std::vector<DataEntry>& entries,
                                 const std::string& cache_root, ObjectRemote& remote,
                                 const TransferProgress& progress);

struct EntryState {
  std::string rel;
  bool local = false, remote = false;  // holds all of its objects
};
Result<std::vector<EntryState>> compare_entries(const std::vector<DataEntry>& entries,
                                                const std::string& cache_root,
                                                ObjectRemote& remote);

}  // namespace rh::pipeline

#include "roundhouse/pipeline/sync.h"

#include <set>

#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {

namespace {

bool cached(const std::string& cache_root, const std::string& md5) {
  return path_exists(object_path(cache_root, md5));
}

// The objects each entry needs as far as the local cache knows (a folder
// whose listing is not cached: just the listing).
Result<std::vector<std::vector<std::string>>> objects_of(const std::vector<DataEntry>& entries,
                                                         const std::string& cache_root) {
  std::vector<std::vector<std::string>> out;
  for (const auto& e : entries) {
    if (e.lp.legacy || e.lp.md5.size() < 32) {
      out.emplace_back();
      continue;
    }
    RH_TRY_ASSIGN(auto objs, needed_objects(cache_root, e.lp));
    out.push_back(std::move(objs));
  }
  return out;
}

std::vector<std::string> unique(const std::vector<std::vector<std::string>>& lists,
                                const std::set<std::string>& skip = {}) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& l : lists)
    for (const auto& m : l)
      if (!skip.count(m) && seen.insert(m).second)
        out.push_back(m);
  return out;
}

}  // namespace

Result<SyncReport> push_entries(const std::vector<DataEntry>& entries,
                                const std::string& cache_root, ObjectRemote& remote,
                                const TransferProgress& progress) {
  SyncReport r;
  std::vector<DataEntry> pushed;
  for (const auto& e : entries)
    if (e.push)
      pushed.push_back(e);
  RH_TRY_ASSIGN(auto lists, objects_of(pushed, cache_root));
  std::set<std::string> absent;
  for (size_t i = 0; i < pushed.size(); ++i) {
    bool all = !lists[i].empty();
    for (const auto& m : lists[i])
      if (!cached(cache_root, m)) {
        all = false;
        absent.insert(m);
      }
    // A folder whose listing is cached but not all of it: the listing alone
    // would tell a puller the folder is there.
    if (!all) {
      r.unavailable.push_back(pushed[i].rel);
      for (const auto& m : lists[i])
        absent.insert(m);
    }
  }
  std::vector<std::string> want = unique(lists, absent);
  RH_TRY_ASSIGN(auto lacking, remote.missing(want));
  r.already = want.size() - lacking.size();
  // Files before the listings that name them: a listing on the remote
  // promises its files.
  std::vector<std::string> files, dirs;
  for (auto& m : lacking)
    (m.ends_with(".dir") ? dirs : files).push_back(m);
  RH_TRY_ASSIGN(uint64_t b1, remote.push(files, cache_root, progress));
  RH_TRY_ASSIGN(uint64_t b2, remote.push(dirs, cache_root, {}));
  r.sent = lacking.size();
  r.bytes = b1 + b2;
  return r;
}

Result<SyncReport> fetch_entries(const std::vector<DataEntry>& entries,
                                 const std::string& cache_root, ObjectRemote& remote,
                                 const TransferProgress& progress) {
  SyncReport r;
  // Twice: the listings the cache lacks first, then what they name.
  for (int round = 0; round < 2; ++round) {
    RH_TRY_ASSIGN(auto lists, objects_of(entries, cache_root));
    std::vector<std::string> want;
    for (const auto& m : unique(lists))
      if (!cached(cache_root, m))
        want.push_back(m);
    if (want.empty())
      break;
    RH_TRY_ASSIGN(auto lacking, remote.missing(want));
    std::set<std::string> gone(lacking.begin(), lacking.end());
    std::vector<std::string> get;
    for (const auto& m : want)
      if (!gone.count(m))
        get.push_back(m);
    RH_TRY_ASSIGN(uint64_t b, remote.fetch(get, cache_root, progress));
    r.sent += get.size();
    r.bytes += b;
  }
  if (r.sent)
    RH_TRY(sync_file_system(cache_root));
  // The final word per entry: everything it needs is in the cache now.
  for (const auto& e : entries)
    if (!in_cache(cache_root, e.lp))
      r.unavailable.push_back(e.rel);
  return r;
}

Result<std::vector<EntryState>> compare_entries(const std::vector<DataEntry>& entries,
                                                const std::string& cache_root,
                                                ObjectRemote& remote) {
  RH_TRY_ASSIGN(auto lists, objects_of(entries, cache_root));
  std::vector<std::string> all = unique(lists);
  RH_TRY_ASSIGN(auto lacking, remote.missing(all));
  std::set<std::string> gone(lacking.begin(), lacking.end());
  std::vector<EntryState> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    EntryState s{entries[i].rel, !lists[i].empty(), !lists[i].empty()};
    for (const auto& m : lists[i]) {
      s.local = s.local && cached(cache_root, m);
      s.remote = s.remote && !gone.count(m);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rh::pipeline

// Upload (what the server lacks of a version's contents) and finalize
// (blobs, then the manifest, then the row); declared in data/ops.h.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "roundhouse/data/ops.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/crash_point.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/trace.h"

namespace rh::data {

namespace {

// The distinct contents of a version's files.
std::vector<std::string> unique_digests(const std::vector<DatasetFile>& files) {
  std::vector<std::string> digests;
  for (const auto& f : files)
    digests.push_back(f.digest);
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  return digests;
}

// Sends what the server lacks of these files' contents (a slice of a
// version's rows); `sent` counts the objects sent so far.
Status upload_files(DataContext& ctx, const std::vector<DatasetFile>& files, int64_t& sent) {
  Trace missing_trace("upload: missing");
  RH_TRY_ASSIGN(auto missing, ctx.remote.missing(unique_digests(files)));
  missing_trace.end();
  Trace send_trace("upload: send");
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& d : missing) {
    RH_TRY_ASSIGN(std::string path, ctx.cache.path_of(d));
    if (!path_exists(path)) {
      return make_error(ErrorCode::not_found,
                        "the local cache has no copy of " + d + "; add the files again");
    }
    items.emplace_back(d, path);
  }
  if (items.empty())
    return {};
  RH_TRY(ctx.remote.put_many(items));  // on several connections
  sent += static_cast<int64_t>(items.size());
  crash_point("upload:slice");  // one slice on the server, the rest not
  if (ctx.progress)
    ctx.progress("uploading", static_cast<uint64_t>(sent), 0);
  return {};
}

// The manifest's text, a JSON line per file in path order, made from the
// version's rows a slice at a time as it is read. `each` sees every slice
// first, and an empty one at the end; an error it returns ends the read.
class ManifestSource final : public ByteSource {
 public:
  using Each = std::function<Status(const std::vector<DatasetFile>&)>;
  ManifestSource(DatasetStore& ds, const std::string& id, Each each)
      : m_rows(ds, id), m_each(std::move(each)) {}

  Result<size_t> read(char* buf, size_t n) override {
    while (m_pos == m_text.size()) {
      if (m_done)
        return size_t{0};
      RH_TRY_ASSIGN(auto files, m_rows.next());
      RH_TRY(m_each(files));
      m_done = files.empty();
      m_text.clear();
      m_pos = 0;
      for (const auto& f : files)
        m_text += to_json(f).dump() + "\n";
    }
    size_t k = std::min(n, m_text.size() - m_pos);
    std::memcpy(buf, m_text.data() + m_pos, k);
    m_pos += k;
    return k;
  }

 private:
  RowSlices m_rows;
  Each m_each;
  std::string m_text;
  size_t m_pos = 0;
  bool m_done = false;
};

}  // namespace

Result<int64_t> upload(DataContext& ctx, const std::string& id) {
  if (ctx.cache_is_remote)
    return int64_t{0};  // the files went into the server's own folder when added
  // A slice of rows at a time: an interruption loses at most one slice.
  RowSlices rows(ctx.store.datasets(), id);
  int64_t sent = 0;
  while (true) {
    RH_TRY_ASSIGN(auto files, rows.next());
    if (files.empty()) {
      progress_done(ctx, "uploading", sent);
      return sent;
    }
    RH_TRY(upload_files(ctx, files, sent));
  }
}

Result<DatasetVersion> finalize(DataContext& ctx, const std::string& id, bool upload_first) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  if (v.state != DatasetState::draft)
    return make_error(ErrorCode::conflict, "dataset version " + id + " is already final");
  // One pass over the rows: each slice's contents are sent (or found on the
  // server) before its lines go into the manifest, and the manifest is
  // stored only once every slice passed.
  bool send = upload_first && !ctx.cache_is_remote;
  int64_t sent = 0, missing = 0;
  ManifestSource manifest(
      ctx.store.datasets(), id, [&](const std::vector<DatasetFile>& files) -> Status {
        if (send)  // the server confirms storing each content it lacked (and never drops one)
          return upload_files(ctx, files, sent);
        if (!files.empty()) {
          // Files, not contents: a content two slices share is counted once a file.
          RH_TRY_ASSIGN(auto m, ctx.remote.missing(unique_digests(files)));
          std::unordered_set<std::string> absent(m.begin(), m.end());
          for (const auto& f : files)
            missing += static_cast<int64_t>(absent.count(f.digest));
        } else if (missing > 0) {
          return make_error(ErrorCode::conflict,
                            std::to_string(missing) + " file(s) of version " + id +
                                " have contents not on the server yet; run `rh data upload " + id +
                                "` or finalize with --upload");
        }
        return {};
      });
  RH_TRY_ASSIGN(BlobInfo stored, ctx.remote.put(manifest, ""));
  progress_done(ctx, "uploading", sent);
  crash_point("finalize:manifest");  // the manifest stored, the row still a draft
  return ctx.store.datasets().finalize(id, stored.digest);
}

}  // namespace rh::data

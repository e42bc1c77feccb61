#include "roundhouse/data/ops.h"

#include <sys/stat.h>

#include "roundhouse/data/hash_store.h"
#include "roundhouse/data/row_spill.h"
#include "roundhouse/util/crash_point.h"
#include "roundhouse/util/trace.h"

namespace rh::data {

namespace {

// Writes what a scan spilled, in one write where the store allows; returns
// how many paths went.
Result<int64_t> write_rows(DataContext& ctx, const std::string& id, RowSpill& spill) {
  if (spill.empty())
    return int64_t{0};  // nothing changed: no write at all
  Trace t("write rows");
  RH_TRY(spill.rewind());
  return ctx.store.datasets().change_files(
      id, [&](FileChanges& c) -> Result<bool> { return spill.next(c, k_walk_slice); });
}

Status require_draft(DataContext& ctx, const std::string& id) {
  RH_TRY_ASSIGN(DatasetVersion v, ctx.store.datasets().get(id));
  if (v.state != DatasetState::draft) {
    return make_error(ErrorCode::conflict,
                      "dataset version " + id + " is final; create a new version to change it");
  }
  return {};
}

}  // namespace

Result<int64_t> add(DataContext& ctx, const std::string& id, const std::vector<std::string>& paths,
                    const AddOptions& opt) {
  RH_TRY(require_draft(ctx, id));
  RowSpill spill;
  RH_TRY(spill.open(ctx.datasets_dir));
  RH_TRY_ASSIGN(Tally t, scan(ctx, paths, opt, nullptr, spill));
  crash_point("add:stored");  // contents in the cache, no row yet
  RH_TRY(write_rows(ctx, id, spill));
  return t.files;
}

Result<SyncResult> sync(DataContext& ctx, const std::string& id, const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(ErrorCode::invalid_argument, "rh data sync needs a folder, got " + dir);
  RH_TRY(require_draft(ctx, id));
  RowSpill spill;
  RH_TRY(spill.open(ctx.datasets_dir));
  RowCursor rows(ctx.store.datasets(), id);  // read while the folder is walked
  RH_TRY_ASSIGN(Tally t, scan(ctx, {dir}, AddOptions{}, &rows, spill));
  SyncResult r;
  r.added = t.added;
  r.modified = t.modified;
  r.unchanged = t.unchanged;
  RH_TRY_ASSIGN(r.removed, write_rows(ctx, id, spill));
  return r;
}

}  // namespace rh::data

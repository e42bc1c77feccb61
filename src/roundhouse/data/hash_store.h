// Hash and store: the files under an add's (or a sync's) arguments into the
// local cache, a slice at a time, and the rows to write into a RowSpill.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/data/context.h"
#include "roundhouse/data/row_slices.h"
#include "roundhouse/data/row_spill.h"

namespace rh::data {

constexpr size_t k_walk_slice = 16000;  // files an add or a sync holds at once

// What scan() counted.
struct Tally {
  int64_t files = 0, added = 0, modified = 0, unchanged = 0;
};

// Walks `paths` a slice of files at a time, stores the contents the cache
// lacks (hashing on every core; files the stat cache knows are not read)
// and spills the rows to write: every file's (add), or with `known` (the
// version's rows, in path order: sync) the new and changed files' and the
// paths that went. Every new object is durable before this returns.
Result<Tally> scan(DataContext& ctx, const std::vector<std::string>& paths, const AddOptions& opt,
                   RowCursor* known, RowSpill& spill);

}  // namespace rh::data

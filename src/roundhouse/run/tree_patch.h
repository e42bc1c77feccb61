// The uncommitted state of a git working tree as one patch that `git apply`
// turns the commit back into that tree: modified, added, deleted and renamed
// files, mode changes, symlinks, empty files, files without a final newline,
// binary files (git's base85 "GIT binary patch") and untracked files that
// .gitignore does not exclude.
//
// Contract: applying `diff` with `git apply` in a checkout of HEAD (or in an
// empty repository when the tree has no commit yet) reproduces every recorded
// path byte for byte, mode and link target included. `diff` is valid UTF-8
// (a file git would show as text but that is not UTF-8 is recorded as a
// binary patch). What the limits leave out keeps its committed content on
// replay (an untracked file is absent) and is listed in `left_out`, each
// entry "path (why)"; the patch starts with a "# not recorded: ..." line
// naming them, which `git apply` skips.
//
// The user's repository is not changed: staging happens in a temporary index
// and the blobs it writes go to a temporary object folder.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {

struct TreePatchLimits {
  size_t max_untracked_files = 50;       // untracked files recorded
  size_t max_untracked_bytes = 1 << 20;  // their total size
  size_t max_binary_bytes = 1 << 20;     // total size of changed tracked binary files
};

struct TreePatch {
  std::string diff;                   // empty when the tree equals its commit
  std::vector<std::string> left_out;  // "path (why)"
};

// root: the top of the working tree; has_commit: whether HEAD names a commit.
Result<TreePatch> working_tree_patch(const std::string& root, bool has_commit,
                                     const TreePatchLimits& limits = {});

// Whether a recorded diff holds any patch for `git apply` (a diff that is only
// the "# not recorded" line, or the older "# untracked files" line, holds none).
bool has_patches(const std::string& diff);

}  // namespace rh

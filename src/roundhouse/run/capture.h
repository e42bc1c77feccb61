// What `rh run` (and agents, later) record about code and machine before a
// program starts: the git checkout or the script, the interpreter, the OS.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/model/task.h"

namespace rh {

struct CaptureLimits {
  size_t max_script_bytes = 1 << 20;     // script content outside git
  size_t max_untracked_bytes = 1 << 20;  // untracked files folded into the diff
  size_t max_untracked_files = 50;
  size_t max_binary_bytes = 1 << 20;  // changed tracked binary files folded into the diff
};

// Git repository, branch, commit and uncommitted diff of cwd (run/tree_patch.h:
// untracked files added as new files, binary ones as binary patches, so that
// `git apply` on the commit rebuilds the working tree; a repository without a
// commit yet has an empty `commit` and a diff from the empty tree); outside
// git, the content of the script that argv runs.
Script capture_script(const std::vector<std::string>& argv, const std::string& cwd,
                      const CaptureLimits& limits = {});

// Interpreter (for known interpreters: its version; for Python also
// `pip freeze`), OS and host.
Environment capture_environment(const std::vector<std::string>& argv);

// This machine's host name.
std::string host_name();

// The file argv runs: argv[0] when it is a file path, else the first
// non-option argument that is a regular file (python train.py ...). Empty if none.
std::string find_script(const std::vector<std::string>& argv, const std::string& cwd);

}  // namespace rh

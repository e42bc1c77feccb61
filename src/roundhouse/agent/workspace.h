// What an agent builds before running a task: the code (workspace) and the
// Python environment (venv). Both cache what can be reused: one mirror per
// repository, one venv per (interpreter, requirements).
#pragma once

#include <string>
#include <vector>

#include "roundhouse/model/task.h"

namespace rh::agent {

struct Workspace {
  std::string root;                // removed after the run
  std::string run_dir;             // where the entry point runs (root + working_dir)
  std::vector<std::string> notes;  // what was done, for the task's console
};

// Git: the repository mirrored into <workdir>/repos (fetched only when the
// commit is missing), checked out at the recorded commit in
// <workdir>/tasks/<id>, the recorded diff applied (a diff that no longer
// applies is an error that says so; a diff holding no patch is not applied).
// Recorded before the repository's first commit: an empty repository with
// the diff (the whole tree) applied. No repository: the recorded script
// content written out as the entry point. What the recording left out
// (run/tree_patch.h) is named in `notes`.
Result<Workspace> build_workspace(const Task& t, const std::string& workdir);

struct Venv {
  std::string dir;
  std::string python;               // dir/bin/python
  std::vector<std::string> failed;  // requirement lines pip could not install
  bool reused = false;
  std::vector<std::string> notes;
};

// A venv (--system-site-packages, so what the machine provides stays
// visible) per hash of the interpreter's version and the requirements, under
// <workdir>/venvs, built once under a lock and reused. Requirements pip
// cannot install are reported, not fatal: the task may still find them on
// the system. `roundhouse` itself is left out (the agent puts its SDK on
// PYTHONPATH).
Result<Venv> build_venv(const std::string& requirements, const std::string& python,
                        const std::string& workdir);

// The command that runs the task in its workspace: the recorded command line
// with the interpreter replaced by the venv's and the script by the entry point.
std::vector<std::string> task_command(const Task& t, const std::string& python);

}  // namespace rh::agent

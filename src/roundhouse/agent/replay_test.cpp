// Capture + replay round trip: a working tree recorded by `rh run`'s capture
// (run/capture.h) and by the Python SDK's (_capture.py), then rebuilt by the
// agent's build_workspace, must equal the original byte for byte: file
// contents, the executable bit, link targets, and nothing extra. The trees
// are generated from a matrix of what users' repositories hold.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "roundhouse/agent/workspace.h"
#include "roundhouse/env/process.h"
#include "roundhouse/model/json.h"
#include "roundhouse/run/capture.h"
#include "roundhouse/run/tree_patch.h"
#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::agent {
namespace {

namespace fs = std::filesystem;

void sh(const std::string& script, const std::string& cwd) {
  auto r = run_capture({"sh", "-ec", script}, cwd, 60000, true);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->exit_code, 0) << script << "\n" << r->out;
}

// path -> "file <mode> <content>" | "link <target>" | "dir"; .git and the
// paths in `skip` (ignored or over the limits) are left out.
std::map<std::string, std::string> snapshot(const std::string& root,
                                            const std::vector<std::string>& skip = {}) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (rel == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (std::find(skip.begin(), skip.end(), rel) != skip.end())
      continue;
    struct stat st;
    ::lstat(it->path().c_str(), &st);
    if (S_ISLNK(st.st_mode)) {
      out[rel] = "link " + fs::read_symlink(it->path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      // git keeps no empty folders; a folder is recorded by what it holds.
    } else {
      out[rel] = std::string("file ") + ((st.st_mode & S_IXUSR) ? "x " : "- ") +
                 read_file(it->path().string()).value_or("<unreadable>");
    }
  }
  return out;
}

// The committed starting point every case changes.
constexpr const char* k_base = R"(
git init -q -b main .
git config user.email t@example.com; git config user.name t
printf 'import pkg\nprint(1)\n' > train.py
printf 'no newline' > nonl.txt
printf 'keep\n' > keep.txt
printf 'old\n' > old.txt
printf 'gone\n' > gone.txt
printf '#!/bin/sh\necho hi\n' > run.sh
head -c 2048 /dev/zero | tr '\0' '\1' > model.bin; printf '\0\377' >> model.bin
mkdir -p 'sp ace'; printf 'x\n' > 'sp ace/ünï.txt'
printf '*.log\n' > .gitignore
git add -A; git commit -qm base
)";

struct Case {
  const char* name;
  const char* change;  // shell, run in the repository after the base
};

const Case k_cases[] = {
    {"empty untracked file", "mkdir pkg; : > pkg/__init__.py"},
    {"untracked without final newline", "printf 'tail' > notes.txt"},
    {"tracked loses its final newline", "printf 'keep' > keep.txt"},
    {"tracked gains a final newline", "printf 'no newline\\n' > nonl.txt"},
    {"tracked emptied", ": > keep.txt"},
    {"untracked binary", "head -c 3000 /dev/urandom > weights.pt; printf '\\0' >> weights.pt"},
    {"tracked binary changed", "printf '\\0\\1\\2' >> model.bin"},
    {"mode change", "chmod +x keep.txt"},
    {"executable untracked", "printf '#!/bin/sh\\n' > go.sh; chmod +x go.sh"},
    {"untracked symlink", "ln -s train.py link.py"},
    {"dangling symlink", "ln -s does/not/exist dangling"},
    {"file becomes a symlink", "rm keep.txt; ln -s old.txt keep.txt"},
    {"rename", "git mv old.txt renamed.txt"},
    {"rename unstaged", "mv old.txt moved.txt"},
    {"deletion", "rm gone.txt"},
    {"staged deletion", "git rm -q gone.txt"},
    {"staged then edited again", "echo a >> keep.txt; git add keep.txt; echo b >> keep.txt"},
    {"spaces and non-ASCII names",
     "mkdir -p 'neu ordner'; printf 'ü\\n' > 'neu ordner/grüße 1.txt'"},
    {"not UTF-8 text", "printf 'caf\\351\\n' > latin1.txt; printf 'na\\357ve\\n' >> keep.txt"},
    {"output written into the tree",
     "mkdir -p out; printf '1,2\\n' > out/metrics.csv; echo x > run.log"},
    {"deep new folders", "mkdir -p a/b/c; printf 'deep\\n' > a/b/c/d.txt"},
    {"name with quotes and tabs", "printf 'q\\n' > \"$(printf 'we\"ird\\tname')\""},
};

// Every change at once, on each kind of starting point.
std::string all_changes() {
  std::string s;
  for (const auto& c : k_cases)
    if (std::string(c.name) != "file becomes a symlink" &&
        std::string(c.name) != "rename unstaged" && std::string(c.name) != "staged deletion")
      s += std::string(c.change) + "\n";
  return s;
}

Task task_with(const Script& script, const std::string& id) {
  Task t;
  t.id = id;
  t.script = script;
  return t;
}

// The SDK's capture of the tree at root, as the Script the server would store.
Script sdk_capture(const std::string& root, const std::string& python) {
  std::string code =
      "import json, sys\n"
      "sys.path.insert(0, sys.argv[1])\n"
      "from roundhouse import _capture\n"
      "_capture.script_path = lambda: sys.argv[2] + '/train.py'\n"
      "print(json.dumps(_capture.capture_script(['train.py'])))\n";
  auto r = run_capture({python, "-c", code, RH_SDK_DIR, root}, root, 60000, true);
  EXPECT_TRUE(r && r->exit_code == 0) << (r ? r->out : r.error().message);
  Script s;
  if (!r || r->exit_code != 0)
    return s;
  auto j = parse_json(r->out, "the SDK's capture");
  EXPECT_TRUE(j.has_value());
  if (j) {
    auto st = from_json(*j, "script", s);
    EXPECT_TRUE(st.has_value()) << st.error().message;
  }
  return s;
}

void round_trip(const std::string& setup, const std::string& label, bool expect_left_out = false,
                const std::vector<std::string>& absent = {}) {
  for (const std::string capturer : {"rh", "sdk"}) {
    SCOPED_TRACE(label + " captured by " + capturer);
    testing::TempDir repo, work;
    sh(setup, repo.path());
    std::vector<std::string> skip = absent;
    // Ignored files are not the user's code: they are not replayed.
    auto ignored = run_capture(
        {"git", "ls-files", "--others", "--ignored", "--exclude-standard", "-z"}, repo.path());
    for (auto& p : split(ignored->out, '\0'))
      if (!p.empty())
        skip.push_back(p);
    auto before = snapshot(repo.path(), skip);
    auto head_before = run_capture({"git", "rev-parse", "-q", "--verify", "HEAD"}, repo.path());
    auto status_before = run_capture({"git", "status", "--porcelain", "-z"}, repo.path());
    Script s = capturer == "rh" ? capture_script({"python3", "train.py"}, repo.path())
                                : sdk_capture(repo.path(), "python3");
    // Recording changes nothing in the user's repository.
    EXPECT_EQ(run_capture({"git", "status", "--porcelain", "-z"}, repo.path())->out,
              status_before->out);
    EXPECT_EQ(run_capture({"git", "rev-parse", "-q", "--verify", "HEAD"}, repo.path())->out,
              head_before->out);
    EXPECT_EQ(s.diff.starts_with("# not recorded: "), expect_left_out) << s.diff.substr(0, 300);
    for (const auto& a : absent)
      EXPECT_NE(s.diff.find(a), std::string::npos) << a << " is named as not recorded";
    auto ws = build_workspace(task_with(s, capturer == "rh" ? "aa01" : "bb02"), work.path());
    ASSERT_TRUE(ws.has_value()) << ws.error().message << "\n" << s.diff.substr(0, 2000);
    auto after = snapshot(ws->root, skip);
    EXPECT_EQ(before, after);
    for (const auto& a : absent)
      EXPECT_FALSE(path_exists(ws->root + "/" + a)) << a;
  }
}

TEST(Replay, EachChangeAloneSurvivesTheRoundTrip) {
  for (const auto& c : k_cases)
    round_trip(std::string(k_base) + c.change, c.name);
}

TEST(Replay, EveryChangeAtOnceOnACommit) {
  round_trip(std::string(k_base) + all_changes(), "all");
}

TEST(Replay, EveryChangeAtOnceOnADetachedHead) {
  round_trip(std::string(k_base) + "git checkout -q --detach\n" + all_changes(), "detached");
}

TEST(Replay, ARepositoryWithNoCommitYet) {
  round_trip(
      "git init -q .\nmkdir pkg; : > pkg/__init__.py\nprintf 'import pkg\\n' > train.py\n"
      "printf 'bin\\0' > w.bin; ln -s train.py l; printf 'x' > 'ü n.txt'\n"
      "printf 'staged\\n' > s.txt; git add s.txt\n",
      "no commit");
}

TEST(Replay, AnUnchangedTreeHasNoDiff) {
  testing::TempDir repo;
  sh(k_base, repo.path());
  EXPECT_EQ(capture_script({"python3", "train.py"}, repo.path()).diff, "");
  EXPECT_EQ(sdk_capture(repo.path(), "python3").diff, "");
}

TEST(Replay, WhatTheLimitsLeaveOutIsNamedAndAbsent) {
  // 1 MiB of untracked files at most: the large one is named, the small ones kept.
  round_trip(std::string(k_base) +
                 "head -c 2000000 /dev/urandom > big.bin\n"
                 "mkdir pkg; : > pkg/__init__.py; printf 'small\\n' > s.txt\n",
             "limits", true, {"big.bin"});
}

TEST(Replay, AWorkingFolderOrIdThatLeavesTheWorkdirIsRefused) {
  testing::TempDir repo, work;
  sh(k_base, repo.path());
  Script s = capture_script({"python3", "train.py"}, repo.path());
  s.working_dir = "../../outside";
  auto ws = build_workspace(task_with(s, "cc03"), work.path());
  ASSERT_FALSE(ws.has_value());
  EXPECT_NE(ws.error().message.find("working folder \"../../outside\""), std::string::npos)
      << ws.error().message;
  s.working_dir = ".";
  ws = build_workspace(task_with(s, "../x"), work.path());
  ASSERT_FALSE(ws.has_value());
  EXPECT_NE(ws.error().message.find("task ID"), std::string::npos);
  EXPECT_FALSE(path_exists(dirname_of(work.path()) + "/outside"));
}

TEST(Replay, AScriptRecordedOutsideGitRunsInTheWorkspaceWhereverItRanBefore) {
  testing::TempDir work;
  Script s;
  s.entry_point = "job.py";
  s.content = "print('hi')\n";
  s.working_dir = "/home/someone/project";  // as the SDK records it outside git
  auto ws = build_workspace(task_with(s, "cc05"), work.path());
  ASSERT_TRUE(ws.has_value()) << ws.error().message;
  EXPECT_EQ(ws->run_dir, ws->root);
  EXPECT_EQ(*read_file(ws->root + "/job.py"), "print('hi')\n");
}

}  // namespace
}  // namespace rh::agent

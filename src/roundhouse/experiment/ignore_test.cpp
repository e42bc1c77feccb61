#include "roundhouse/experiment/ignore.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "roundhouse/env/process.h"
#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::experiment {
namespace {

TEST(IgnoreTest, GitignoreRules) {
  IgnoreRules r;
  r.add("# a comment\n\n*.log\n!keep.log\nbuild/\n/top.txt\ndocs/**/*.tmp\n\\#hash\nsp\\ \n");
  EXPECT_TRUE(r.ignored("x.log", false));
  EXPECT_TRUE(r.ignored("a/b/x.log", false));
  EXPECT_FALSE(r.ignored("keep.log", false));
  EXPECT_TRUE(r.ignored("build", true));
  EXPECT_FALSE(r.ignored("build", false)) << "a trailing / matches directories only";
  EXPECT_TRUE(r.ignored("build/keep.log", false)) << "nothing inside an ignored folder comes back";
  EXPECT_TRUE(r.ignored("top.txt", false));
  EXPECT_FALSE(r.ignored("a/top.txt", false)) << "a leading / anchors at the root";
  EXPECT_TRUE(r.ignored("docs/x.tmp", false));
  EXPECT_TRUE(r.ignored("docs/a/b/x.tmp", false));
  EXPECT_FALSE(r.ignored("x.tmp", false));
  EXPECT_TRUE(r.ignored("#hash", false));
  EXPECT_TRUE(r.ignored("sp ", false));
  // Always left out, whatever the rules say.
  IgnoreRules none;
  none.add("!*.pyc\n");
  EXPECT_TRUE(none.ignored("pkg/__pycache__/m.cpython-311.pyc", false));
  EXPECT_TRUE(none.ignored("m.pyc", false));
  EXPECT_TRUE(none.ignored(".git/config", false));
  EXPECT_FALSE(none.ignored("pkg/__init__.py", false));
}

TEST(IgnoreTest, Wildmatch) {
  EXPECT_TRUE(wildmatch("a/**/b", "a/b"));
  EXPECT_TRUE(wildmatch("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(wildmatch("a/*/b", "a/x/y/b"));
  EXPECT_TRUE(wildmatch("**/b", "b"));
  EXPECT_TRUE(wildmatch("a/**", "a/x/y"));
  EXPECT_FALSE(wildmatch("a/**", "a"));
  EXPECT_TRUE(wildmatch("[a-c]x", "bx"));
  EXPECT_FALSE(wildmatch("[!a-c]x", "bx"));
  EXPECT_TRUE(wildmatch("[]]", "]"));
  EXPECT_TRUE(wildmatch("x[", "x["));
  EXPECT_FALSE(wildmatch("?", "/"));
  EXPECT_TRUE(wildmatch("a**b", "axxb")) << "** not between slashes is one *";
  EXPECT_FALSE(wildmatch("a**b", "a/b"));
}

// Random trees and rule files, each decision compared with git's own.
TEST(IgnoreTest, AgreesWithGitCheckIgnoreOnGeneratedPatterns) {
  auto git = run_capture({"git", "--version"});
  if (!git || git->exit_code != 0)
    GTEST_SKIP() << "git is not installed";
  const std::vector<std::string> names = {"a",       "b",      "ab",           "x.txt", "y.log",
                                          ".hidden", "sp ace", "\xc3\xbc.txt", "a.b",   "build"};
  const std::vector<std::string> atoms = {"a",       "b",      "*",         "?",    "*.txt",
                                          "*.log",   "[ab]",   "[!a]*",     "**",   "a*",
                                          ".hidden", "sp ace", "\xc3\xbc*", "build"};
  std::mt19937 rng(20261207);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  int compared = 0;
  for (int round = 0; round < 40; ++round) {
    testing::TempDir dir;
    // A tree: folders up to three deep, files in them.
    std::map<std::string, bool> paths;  // path -> is a folder
    for (int i = 0; i < 25; ++i) {
      std::string p;
      int depth = 1 + int(rng() % 3);
      for (int d = 0; d < depth; ++d) {
        std::string part = pick(names);
        p += (p.empty() ? "" : "/") + part;
        if (d + 1 < depth) {
          if (paths.count(p) && !paths[p])
            break;  // already a file
          paths[p] = true;
        }
      }
      if (!paths.count(p))
        paths[p] = false;
    }
    for (const auto& [p, is_dir] : paths) {
      std::string full = dir.path() + "/" + p;
      if (is_dir) {
        ASSERT_TRUE(make_dirs(full));
      } else {
        ASSERT_TRUE(make_dirs(full.substr(0, full.rfind('/'))));
        std::ofstream(full) << "x";
      }
    }
    // Rules: anchored or not, negated, directory-only, "**" forms.
    std::string rules;
    int lines = 2 + int(rng() % 6);
    for (int l = 0; l < lines; ++l) {
      std::string line;
      if (rng() % 4 == 0)
        line += "!";
      if (rng() % 4 == 0)
        line += "/";
      int parts = 1 + int(rng() % 3);
      for (int k = 0; k < parts; ++k)
        line += (k ? "/" : "") + pick(atoms);
      if (rng() % 4 == 0)
        line += "/";
      rules += line + "\n";
    }
    std::ofstream(dir.path() + "/.gitignore") << rules;
    ASSERT_TRUE(run_capture({"git", "init", "-q"}, dir.path()));
    {
      std::ofstream list(dir.path() + "/.paths", std::ios::binary);
      for (const auto& [p, is_dir] : paths)
        list << p << '\0';
    }
    // -z needs --stdin: the paths go in NUL-separated, as they are (spaces, UTF-8).
    auto out = run_capture({"sh", "-c",
                            "git -c core.excludesFile=/dev/null check-ignore --no-index -v -n -z "
                            "--stdin < .paths"},
                           dir.path());
    ASSERT_TRUE(out) << out.error().message;
    // -z -v -n: source, line, pattern, path, each NUL-terminated.
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t i = 0; i < out->out.size(); ++i) {
      if (out->out[i] == '\0') {
        fields.push_back(out->out.substr(start, i - start));
        start = i + 1;
      }
    }
    ASSERT_EQ(fields.size(), paths.size() * 4) << rules;
    IgnoreRules ours;
    ours.add(rules);
    for (size_t i = 0; i + 3 < fields.size(); i += 4) {
      const std::string& pattern = fields[i + 2];
      const std::string& path = fields[i + 3];
      bool git_ignores = !fields[i].empty() && !pattern.starts_with("!");
      EXPECT_EQ(ours.ignored(path, paths.at(path)), git_ignores)
          << "path \"" << path << "\" with rules:\n"
          << rules << "git: " << fields[i] << ":" << fields[i + 1] << ":" << pattern;
      ++compared;
    }
  }
  EXPECT_GT(compared, 500);
}

}  // namespace
}  // namespace rh::experiment

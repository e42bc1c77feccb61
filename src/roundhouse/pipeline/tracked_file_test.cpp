// Tracked data files: read with their wdir and flags, rewritten with the
// hash fields replaced in place (what else they say kept), errors with the
// file and line; checkout from a cache laid out as DVC's, refusing unsafe
// listings.
#include "roundhouse/pipeline/tracked_file.h"

#include <gtest/gtest.h>

#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {
namespace {

TEST(TrackedFile, ReadsPathsFromItsFolderAndWdir) {
  auto t = parse_tracked_file("sub/data.dvc",
                              "wdir: ../other\nouts:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n"
                              "  size: 1\n  hash: md5\n  path: data\n  cache: false\n");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->wdir, "other");
  ASSERT_EQ(t->outs.size(), 1u);
  EXPECT_EQ(t->rel(t->outs[0]), "other/data");
  EXPECT_FALSE(t->cached[0]);
  EXPECT_FALSE(t->outs[0].legacy);
}

TEST(TrackedFile, RewritesTheHashKeepingTheRest) {
  auto t = parse_tracked_file("d.dvc",
                              "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  size: 1\n"
                              "  hash: md5\n  path: d\n  desc: the raw images\n"
                              "meta:\n  owner: ana\n");
  ASSERT_TRUE(t);
  LockedPath lp{"d", "92eb5ffee6ae2fec3ad71c777531578f.dir", 7, 2u, false};
  EXPECT_EQ(tracked_file_text(*t, lp),
            "outs:\n- md5: 92eb5ffee6ae2fec3ad71c777531578f.dir\n  size: 7\n  nfiles: 2\n"
            "  hash: md5\n  path: d\n  desc: the raw images\nmeta:\n  owner: ana\n");
  TrackedFile fresh;
  fresh.file = "x.rh";
  fresh.wdir = ".";
  EXPECT_EQ(tracked_file_text(
                fresh, LockedPath{"x", "0cc175b9c0f1b6a831c399e269772661", 1, std::nullopt, false}),
            "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  size: 1\n  hash: md5\n"
            "  path: x\n");
}

TEST(TrackedFile, ErrorsNameTheFileAndLine) {
  auto none = parse_tracked_file("a.dvc", "outs: []\n");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "a.dvc:1: `outs:` must list what the file tracks");
  auto up = parse_tracked_file("a.dvc", "outs:\n- md5: x\n  path: ../../etc\n");
  ASSERT_FALSE(up);
  EXPECT_NE(up.error().message.find("a.dvc:2: outs: '../../etc' is outside the repository"),
            std::string::npos)
      << up.error().message;
  auto import =
      parse_tracked_file("i.dvc", "deps:\n- path: x\n  repo: {url: u}\nouts:\n- path: x\n");
  ASSERT_FALSE(import);
  EXPECT_NE(import.error().message.find("i.dvc:2: imports"), std::string::npos);
}

TEST(Checkout, RefusesAListingThatLeavesItsFolder) {
  testing::TempDir tmp;
  std::string cache = tmp.path() + "/cache";
  std::string listing = R"([{"md5": "0cc175b9c0f1b6a831c399e269772661", "relpath": "../x"}])";
  std::string md5 = "11111111111111111111111111111111.dir";
  ASSERT_TRUE(make_dirs(dirname_of(object_path(cache, md5))));
  ASSERT_TRUE(write_file_atomic(object_path(cache, md5), listing));
  LockedPath lp{"d", md5, 1, 1u, false};
  auto r = checkout_entry(cache, lp, tmp.path() + "/w/d", nullptr, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::corrupt);
  EXPECT_FALSE(path_exists(tmp.path() + "/w"));
  // A missing object changes nothing in the workspace.
  ASSERT_TRUE(make_dirs(tmp.path() + "/w/e"));
  ASSERT_TRUE(write_file_atomic(tmp.path() + "/w/e/keep", "mine"));
  LockedPath gone{"e", "22222222222222222222222222222222", 4, std::nullopt, false};
  auto m = checkout_entry(cache, gone, tmp.path() + "/w/e", nullptr, false);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::not_found);
  EXPECT_TRUE(path_exists(tmp.path() + "/w/e/keep"));
}

}  // namespace
}  // namespace rh::pipeline

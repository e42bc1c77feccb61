#include "roundhouse/data/stat_cache.h"

#include <gtest/gtest.h>

#include <fstream>

#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::data {
namespace {

FileStat make_stat(uint64_t dev, uint64_t ino, int64_t size, int64_t mtime_s) {
  struct stat st {};
  st.st_dev = dev;
  st.st_ino = ino;
  st.st_size = size;
  st.st_mtim.tv_sec = mtime_s;
  st.st_mtim.tv_nsec = 7;
  return FileStat::of(st);
}

const std::string k_a = "sha256:" + std::string(64, 'a');
const std::string k_b = "sha256:0123456789abcdef" + std::string(48, 'f');

TEST(StatCache, RemembersAcrossProcessesUntilTheFileChanges) {
  testing::TempDir dir;
  std::string path = dir.path() + "/statcache.bin";
  {
    StatCache c(path);
    EXPECT_EQ(c.lookup(make_stat(1, 2, 10, 100)), "");
    c.remember(make_stat(1, 2, 10, 100), k_a);
    c.remember(make_stat(1, 3, 20, 100), k_b);
    c.save();
  }
  StatCache again(path);
  EXPECT_EQ(again.size(), 2u);
  EXPECT_EQ(again.lookup(make_stat(1, 2, 10, 100)), k_a);
  EXPECT_EQ(again.lookup(make_stat(1, 3, 20, 100)), k_b);
  EXPECT_EQ(again.lookup(make_stat(1, 2, 11, 100)), "");  // size changed
  EXPECT_EQ(again.lookup(make_stat(1, 2, 10, 101)), "");  // mtime changed
  EXPECT_EQ(again.lookup(make_stat(2, 2, 10, 100)), "");  // another device
}

TEST(StatCache, TheNewestDigestForAFileWinsAndAnyRecordOrderIsRead) {
  testing::TempDir dir;
  std::string path = dir.path() + "/statcache.bin";
  {
    StatCache c(path);
    c.remember(make_stat(1, 5, 10, 100), k_a);
    c.save();
  }
  {
    StatCache c(path);
    c.remember(make_stat(1, 5, 10, 200), k_b);  // the same file, rewritten
    c.remember(make_stat(1, 1, 10, 100), k_a);
    c.save();
  }
  StatCache again(path);
  EXPECT_EQ(again.size(), 2u);
  EXPECT_EQ(again.lookup(make_stat(1, 5, 10, 200)), k_b);
  EXPECT_EQ(again.lookup(make_stat(1, 5, 10, 100)), "");
  // Records out of order (another writer's file): still found.
  auto text = read_file(path);
  ASSERT_TRUE(text);
  ASSERT_EQ(text->size(), 8u + 2 * 64);
  std::string swapped = text->substr(0, 8) + text->substr(72, 64) + text->substr(8, 64);
  std::ofstream(path, std::ios::trunc) << swapped;
  StatCache swapped_cache(path);
  EXPECT_EQ(swapped_cache.lookup(make_stat(1, 5, 10, 200)), k_b);
  EXPECT_EQ(swapped_cache.lookup(make_stat(1, 1, 10, 100)), k_a);
}

TEST(StatCache, ManyNewEntriesGoThroughRunFilesAndTheNewestStillWins) {
  testing::TempDir dir;
  std::string path = dir.path() + "/statcache.bin";
  const uint64_t n = StatCache::k_in_memory * 2 + 100;  // two runs and some in memory
  {
    StatCache c(path);
    c.remember(make_stat(1, 7, 10, 100), k_a);  // the first run has it...
    for (uint64_t i = 0; i < n; ++i)
      c.remember(make_stat(2, n - i, 1, 1), k_a);  // inodes falling: each run sorts its own
    c.remember(make_stat(1, 7, 10, 200), k_b);     // ...and the last word is in memory
    c.save();
  }
  StatCache again(path);
  EXPECT_EQ(again.size(), n + 1);
  EXPECT_EQ(again.lookup(make_stat(1, 7, 10, 200)), k_b);
  EXPECT_EQ(again.lookup(make_stat(1, 7, 10, 100)), "");
  EXPECT_EQ(again.lookup(make_stat(2, 1, 1, 1)), k_a);
  EXPECT_EQ(again.lookup(make_stat(2, n, 1, 1)), k_a);
  EXPECT_EQ(again.lookup(make_stat(2, n + 1, 1, 1)), "");
  again.release();  // pages given back: lookups still work
  EXPECT_EQ(again.lookup(make_stat(2, n / 2, 1, 1)), k_a);
  // A later save merges the file with what is new, newest first.
  again.remember(make_stat(2, 5, 1, 2), k_b);
  again.save();
  StatCache third(path);
  EXPECT_EQ(third.size(), n + 1);
  EXPECT_EQ(third.lookup(make_stat(2, 5, 1, 2)), k_b);
  EXPECT_EQ(third.lookup(make_stat(2, 6, 1, 1)), k_a);
  // The file is sorted, one record per file.
  auto text = read_file(path);
  ASSERT_TRUE(text);
  ASSERT_EQ(text->size(), 8 + (n + 1) * 64);
}

TEST(StatCache, SomethingElseInItsPlaceIsIgnored) {
  testing::TempDir dir;
  std::string path = dir.path() + "/statcache.bin";
  std::ofstream(path) << "SQLite format 3\nnot a stat cache";
  StatCache c(path);
  EXPECT_EQ(c.size(), 0u);
  c.remember(make_stat(1, 2, 10, 100), k_a);
  c.remember(make_stat(1, 9, 10, 100), "md5:not-a-sha256");  // not kept
  c.save();
  EXPECT_EQ(StatCache(path).size(), 1u);
  // Cut short (a torn write): ignored rather than misread.
  auto text = read_file(path);
  ASSERT_TRUE(text);
  std::ofstream(path, std::ios::trunc) << text->substr(0, text->size() - 5);
  EXPECT_EQ(StatCache(path).size(), 0u);
}

}  // namespace
}  // namespace rh::data

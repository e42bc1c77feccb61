#include "roundhouse/pipeline/hash_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <fstream>

#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {
namespace {

void set_mtime(const std::string& path, time_t t) {
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, 0), 0);
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st;
}

TEST(HashCache, AnUnchangedStatIsNotReadAgainAcrossRuns) {
  testing::TempDir dir;
  std::string f = dir.path() + "/f.bin", cache = dir.path() + "/hashes.bin";
  ASSERT_TRUE(write_file_atomic(f, "abc"));
  time_t old = ::time(nullptr) - 60;
  set_mtime(f, old);
  {
    HashCache c(cache);
    auto d = digests_of(f, stat_of(f), &c);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->md5, "900150983cd24fb0d6963f7d28e17f72");
    c.save();
  }
  // Same inode, size and mtime, other bytes: the cache answers (the file is not read).
  std::ofstream(f, std::ios::binary | std::ios::trunc) << "xyz";
  set_mtime(f, old);
  HashCache again(cache);
  auto hit = again.lookup(stat_of(f));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->md5, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hit->size, 3u);
  // Another mtime: read again.
  set_mtime(f, old + 1);
  EXPECT_FALSE(again.lookup(stat_of(f)));
  EXPECT_EQ(digests_of(f, stat_of(f), &again)->md5, "d16fb36f0911f878998c136191af705e");
}

TEST(HashCache, AFileChangedJustNowIsNotRemembered) {
  testing::TempDir dir;
  std::string f = dir.path() + "/new.txt";
  ASSERT_TRUE(write_file_atomic(f, "fresh"));
  HashCache c(dir.path() + "/hashes.bin");
  ASSERT_TRUE(digests_of(f, stat_of(f), &c));
  EXPECT_FALSE(c.lookup(stat_of(f)));
  // A damaged cache file is ignored.
  ASSERT_TRUE(write_file_atomic(dir.path() + "/bad.bin", "RHMD5C1\nshort"));
  HashCache bad(dir.path() + "/bad.bin");
  EXPECT_FALSE(bad.lookup(stat_of(f)));
}

}  // namespace
}  // namespace rh::pipeline

#include "roundhouse/pipeline/hash_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
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

TEST(HashCache, ManyEntriesSurviveGrowthAndASaveAndEachAnswersForItsOwnStat) {
  testing::TempDir dir;
  std::string cache = dir.path() + "/hashes.bin";
  // Synthetic stats: far more entries than the first table holds, inodes
  // that collide under a naive hash (same low bits), two devices.
  auto fake = [](uint64_t dev, uint64_t ino) {
    struct stat st {};
    st.st_dev = dev;
    st.st_ino = ino;
    st.st_size = int64_t(ino % 1000);
    st.st_mtim.tv_sec = 1000;
    return st;
  };
  auto digests = [](uint64_t dev, uint64_t ino) {
    char md5[33];
    std::snprintf(md5, sizeof md5, "%016llx%016llx", (unsigned long long)dev,
                  (unsigned long long)ino);
    FileDigests d;
    d.md5 = md5;
    d.sha256 = "sha256:" + std::string(md5) + std::string(md5);
    d.size = ino % 1000;
    return d;
  };
  {
    HashCache c(cache);
    for (uint64_t dev : {1u, 2u})
      for (uint64_t i = 1; i <= 5000; ++i)
        c.remember_fresh(fake(dev, i << 20), digests(dev, i << 20));
    c.save();
  }
  HashCache again(cache);
  for (uint64_t dev : {1u, 2u})
    for (uint64_t i = 1; i <= 5000; i += 7) {
      auto hit = again.lookup(fake(dev, i << 20));
      ASSERT_TRUE(hit) << dev << " " << i;
      EXPECT_EQ(hit->md5, digests(dev, i << 20).md5);
      EXPECT_EQ(hit->sha256, digests(dev, i << 20).sha256);
    }
  EXPECT_FALSE(again.lookup(fake(3, 1 << 20)));
  EXPECT_FALSE(again.lookup(fake(1, 5001ull << 20)));
  // A changed size is a miss for that file only.
  auto changed = fake(1, 7ull << 20);
  changed.st_size += 1;
  EXPECT_FALSE(again.lookup(changed));
  EXPECT_TRUE(again.lookup(fake(1, 8ull << 20)));
  EXPECT_EQ(path_exists(cache), true);
  EXPECT_EQ(read_file(cache)->size(), 8 + 10000 * 96u);
}

}  // namespace
}  // namespace rh::pipeline

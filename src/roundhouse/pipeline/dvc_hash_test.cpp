#include "roundhouse/pipeline/dvc_hash.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "roundhouse/hash/md5.h"
#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {
namespace {

TEST(DvcHash, Md5OfBytes) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("hello\n"), "b1946ac92492d2347c6235b4d2611184");
}

// The expected values are what `dvc add data single.csv` (DVC 3.67.1)
// wrote into data.dvc and single.csv.dvc for exactly these files.
TEST(DvcHash, FilesAndFoldersHashAsDvcRecordsThem) {
  testing::TempDir dir;
  std::string d = dir.path() + "/data";
  ASSERT_TRUE(make_dirs(d + "/sub dir"));
  ASSERT_TRUE(make_dirs(d + "/ü"));
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes += char(i);
  ASSERT_TRUE(write_file_atomic(d + "/a.txt", "hello\n"));
  ASSERT_TRUE(write_file_atomic(d + "/sub dir/é.bin", bytes));
  ASSERT_TRUE(write_file_atomic(d + "/empty", ""));
  ASSERT_TRUE(write_file_atomic(d + "/sub dir/Z.txt", "Z"));
  ASSERT_TRUE(write_file_atomic(d + "/ü/x", "x"));
  ASSERT_TRUE(write_file_atomic(d + "/B-upper", "B"));
  ASSERT_TRUE(write_file_atomic(dir.path() + "/single.csv", "a,b\n1,2\n"));
  auto folder = hash_path(d);
  ASSERT_TRUE(folder) << folder.error().message;
  EXPECT_TRUE(folder->dir);
  EXPECT_EQ(folder->md5, "950c37016706501a2352246d42fae956.dir");
  EXPECT_EQ(folder->size, 265u);
  EXPECT_EQ(folder->nfiles, 6u);
  EXPECT_EQ(folder->files[0].relpath, "B-upper");  // byte order, as Python sorts
  EXPECT_EQ(folder->files[0].sha256.substr(0, 7), "sha256:");
  auto file = hash_path(dir.path() + "/single.csv");
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->dir);
  EXPECT_EQ(file->md5, "e5ebd4c02cefbe7955977c67ada242b7");
  EXPECT_EQ(file->size, 8u);
  // A link to a file counts as the file.
  ASSERT_EQ(::symlink("a.txt", (d + "/link").c_str()), 0);
  auto linked = hash_path(d);
  ASSERT_TRUE(linked);
  EXPECT_EQ(linked->nfiles, 7u);
  EXPECT_EQ(hash_path(dir.path() + "/nope").error().code, ErrorCode::not_found);
}

TEST(DvcHash, TheListingIsPythonsJson) {
  EXPECT_EQ(dir_listing({HashedFile{"a \"q\"/é\n😀", "00", "", 0}, HashedFile{"b", "11", "", 0}}),
            "[{\"md5\": \"00\", \"relpath\": \"a \\\"q\\\"/\\u00e9\\n\\ud83d\\ude00\"}, "
            "{\"md5\": \"11\", \"relpath\": \"b\"}]");
  // Not UTF-8: as Python's surrogateescape reads it.
  EXPECT_EQ(dir_listing({HashedFile{"x\xff", "00", "", 0}}),
            "[{\"md5\": \"00\", \"relpath\": \"x\\udcff\"}]");
}

}  // namespace
}  // namespace rh::pipeline

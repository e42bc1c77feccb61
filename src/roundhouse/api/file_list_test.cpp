#include "roundhouse/api/file_list.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace rh::api {
namespace {

const std::string k_digest = "sha256:" + std::string(64, 'a');

TEST(FileList, RoundTripsOddPaths) {
  std::vector<DatasetFile> files = {
      {"plain/file.csv", k_digest, 12, 0644},
      {"with\ttab and\nnewline\r and \\ backslash", k_digest, 0, 0755},
      {"ünïcode/データ.bin", k_digest, 1ull << 40, 0400},
  };
  std::string text;
  append_file_list(text, files);
  std::vector<DatasetFile> back;
  ASSERT_TRUE(read_file_list(text, back));
  EXPECT_EQ(back, files);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST(FileList, BadLinesSayWhichLine) {
  std::vector<DatasetFile> out;
  std::string good = k_digest + "\t1\t644\ta\n";
  auto r = read_file_list(good + k_digest + "\tx\t644\tb\n", out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("size"), std::string::npos);
  EXPECT_FALSE(read_file_list(k_digest + "\t1\t999\ta\n", out));     // not octal
  EXPECT_FALSE(read_file_list(k_digest + "\t1\ta\n", out));          // 3 fields
  EXPECT_FALSE(read_file_list(k_digest + "\t1\t644\ta", out));       // cut short
  EXPECT_FALSE(read_file_list(k_digest + "\t1\t644\ta\\q\n", out));  // unknown escape
  EXPECT_FALSE(read_file_list(k_digest + "\t1\t644\ta\\\n", out));   // lone backslash
}

TEST(FileList, ChangeListsRoundTripThroughAFileReadInSlices) {
  FileChanges all;
  for (int i = 0; i < 500; ++i) {
    all.put.push_back({"dir/file " + std::to_string(i), k_digest, static_cast<uint64_t>(i), 0644});
    if (i % 7 == 0)
      all.gone.push_back("old\t" + std::to_string(i));
  }
  std::string text;
  append_file_changes(text, all);
  auto path = std::filesystem::temp_directory_path() / "rh-file-list-test-changes";
  std::ofstream(path, std::ios::binary) << text;
  // Slices far smaller than the list, and smaller than one row.
  for (size_t slice : {size_t{1}, size_t{100}, size_t{4096}, size_t{1} << 20}) {
    auto reader = FileChangesReader::open(path.string(), slice);
    ASSERT_TRUE(reader) << reader.error().to_string();
    FileChanges back, part;
    int slices = 0;
    while (true) {
      auto more = reader->next(part);
      ASSERT_TRUE(more) << more.error().to_string();
      if (!*more)
        break;
      ++slices;
      back.put.insert(back.put.end(), part.put.begin(), part.put.end());
      back.gone.insert(back.gone.end(), part.gone.begin(), part.gone.end());
    }
    EXPECT_EQ(back.put, all.put) << "slice " << slice;
    EXPECT_EQ(back.gone, all.gone) << "slice " << slice;
    if (slice == 1)  // every complete row is a slice of its own
      EXPECT_EQ(slices, static_cast<int>(all.put.size() + all.gone.size()));
    else
      EXPECT_GE(slices, 1);
  }
  // A bad row is named by its line in the whole list, a cut list refused.
  std::string bad = text + k_digest + "\tx\t644\tb\n";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
  auto reader = FileChangesReader::open(path.string(), 64);
  ASSERT_TRUE(reader);
  FileChanges part;
  Result<bool> more = true;
  while (more && *more)
    more = reader->next(part);
  ASSERT_FALSE(more);
  size_t lines = all.put.size() + all.gone.size();
  EXPECT_NE(more.error().message.find("line " + std::to_string(lines + 1)), std::string::npos)
      << more.error().message;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text.substr(0, text.size() - 1);
  auto cut = FileChangesReader::open(path.string());
  ASSERT_TRUE(cut);
  more = true;
  while (more && *more)  // the complete rows before the cut may come first
    more = cut->next(part);
  ASSERT_FALSE(more);
  EXPECT_NE(more.error().message.find("does not end with a newline"), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_FALSE(FileChangesReader::open(path.string()));
}

}  // namespace
}  // namespace rh::api

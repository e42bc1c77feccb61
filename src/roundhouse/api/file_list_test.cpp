#include "roundhouse/api/file_list.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rh::api

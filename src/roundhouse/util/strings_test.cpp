#include "roundhouse/util/strings.h"

#include <gtest/gtest.h>

#include "roundhouse/env/env.h"

namespace rh {
namespace {

TEST(Utf8, AcceptsValidAndRejectsBroken) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(is_valid_utf8("ok\xFF"));        // invalid byte
  EXPECT_EQ(first_invalid_utf8("ok\xFF"), 2u);
}

TEST(Utf8, SanitizeReplacesEachBadByte) {
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_utf8("fine"), "fine");
}

TEST(Ids, UuidV7IsTimeOrderedHex) {
  FakeEnv env;
  std::string a = env.new_id();
  env.advance(0.002);
  std::string b = env.new_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(is_hex(a));
  EXPECT_EQ(a[12], '7');
  EXPECT_LT(a, b);
}

TEST(Strings, ParseNumbers) {
  EXPECT_EQ(parse_int("42"), 42);
  EXPECT_FALSE(parse_int("4x"));
  EXPECT_FALSE(parse_int(""));
  EXPECT_DOUBLE_EQ(*parse_double("0.25"), 0.25);
  EXPECT_EQ(split("a/b//c", '/').size(), 4u);
}

}  // namespace
}  // namespace rh

#include "roundhouse/hash/digest.h"

#include <gtest/gtest.h>

#include "roundhouse/hash/sha256.h"

namespace rh {
namespace {

// sha256 of "abc" (FIPS 180-2, appendix B.1).
constexpr std::string_view k_abc =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, ParsesTheTextAndGivesBackEachForm) {
  ASSERT_EQ(sha256_digest("abc"), k_abc);
  auto d = Digest::parse(k_abc);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->text(), k_abc);
  EXPECT_EQ(d->hex(), k_abc.substr(7));
  EXPECT_EQ(digest_hex(k_abc), k_abc.substr(7));
  EXPECT_EQ(d->shard(), 0xba);
  EXPECT_EQ(d->bytes()[31], 0xad);
  EXPECT_EQ(Digest::from_bytes(d->bytes().data()), *d);
  EXPECT_EQ(Digest::k_text_size, k_abc.size());
}

TEST(DigestTest, RefusesWhatIsNotADigestAndSaysWhatWasGiven) {
  std::string upper(k_abc);
  upper[10] = 'F';
  for (std::string bad : {std::string(), std::string("sha256:"), std::string(k_abc.substr(0, 70)),
                          std::string(k_abc) + "0", "md5:" + std::string(k_abc.substr(7)), upper,
                          "sha256:" + std::string(64, 'g')}) {
    auto d = Digest::parse(bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(d.error().message.find(bad.substr(0, 20)), std::string::npos) << d.error().message;
  }
}

TEST(DigestTest, OrdersAsItsBytes) {
  auto a = Digest::parse("sha256:" + std::string(63, '0') + "1");
  auto b = Digest::parse("sha256:" + std::string(62, '0') + "10");
  ASSERT_TRUE(a && b);
  EXPECT_LT(*a, *b);
  EXPECT_LT(a->text(), b->text());  // the same order as the text
}

}  // namespace
}  // namespace rh

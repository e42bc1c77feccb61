#include "roundhouse/api/change_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace rh::api {
namespace {

using namespace std::chrono_literals;

TEST(ChangeHub, AnswersAtOnceWhenTheVersionDiffers) {
  ChangeHub hub;
  hub.bump("task:a");
  std::promise<uint64_t> got;
  hub.wait("task:a", 0, 10s, [&](uint64_t v) { got.set_value(v); });
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(f.get(), hub.version("task:a"));
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(ChangeHub, WakesOnlyTheWaitersOfTheBumpedKey) {
  ChangeHub hub;
  std::atomic<int> a{0}, b{0};
  hub.wait("task:a", 0, 10s, [&](uint64_t) { ++a; });
  hub.wait("task:a", 0, 10s, [&](uint64_t) { ++a; });
  hub.wait("task:b", 0, 10s, [&](uint64_t) { ++b; });
  EXPECT_EQ(hub.waiting(), 3u);
  hub.bump("task:a");
  EXPECT_EQ(a.load(), 2);
  EXPECT_EQ(b.load(), 0);
  EXPECT_EQ(hub.waiting(), 1u);
  hub.shutdown();  // answers the rest
  EXPECT_EQ(b.load(), 1);
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(ChangeHub, TimesOutWithTheSameVersion) {
  ChangeHub hub;
  hub.bump("k");
  uint64_t v = hub.version("k");
  std::promise<uint64_t> got;
  auto start = std::chrono::steady_clock::now();
  hub.wait("k", v, 50ms, [&](uint64_t x) { got.set_value(x); });
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get(), v);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(ChangeHub, ManyWaitersCostNoThreads) {
  ChangeHub hub;
  std::atomic<int> woke{0};
  for (int i = 0; i < 10000; ++i)
    hub.wait("task:" + std::to_string(i % 100), 0, 60s, [&](uint64_t) { ++woke; });
  EXPECT_EQ(hub.waiting(), 10000u);
  hub.bump("task:7");
  EXPECT_EQ(woke.load(), 100);
}

}  // namespace
}  // namespace rh::api

// Small scalar chunks (one per write) are merged in the background without
// changing what reads return.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/testing/temp_dir.h"

namespace rh {
namespace {

int64_t chunk_count(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM metric_chunk", -1, &s, nullptr);
  sqlite3_step(s);
  int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

TEST(Compaction, MergesRunsOfSmallChunksKeepingOrder) {
  testing::TempDir dir;
  FakeEnv env;
  std::string path = dir.path() + "/rh.db";
  auto store = open_sqlite_store(path, env);
  ASSERT_TRUE(store);
  auto task = (*store)->tasks().create(NewTask{"p", "t"});
  auto& scalars = (*store)->scalars();
  std::vector<int64_t> want_steps;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(scalars.append(task->id, {ScalarSeries{"m", "s", {i}, {double(i)}, {1e9 + i}}}));
    want_steps.push_back(i);
  }
  ScalarSeries big{"m", "s", {}, {}, {}};
  for (int i = 0; i < 5000; ++i) {
    big.steps.push_back(10000 + i);
    big.values.push_back(i == 1234 ? 1e6 : 0.5);
    big.times.push_back(2e9);
    want_steps.push_back(10000 + i);
  }
  ASSERT_TRUE(scalars.append(task->id, {big}));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(scalars.append(task->id, {ScalarSeries{"m", "s", {-i}, {-1.0 * i}, {3e9}}}));
    want_steps.push_back(-i);
  }
  auto before = scalars.summaries(task->id);
  ASSERT_TRUE(compact_scalar_chunks(**store));
  (*store)->close();
  EXPECT_EQ(chunk_count(path), 3) << "200 small, the big one, 50 small";

  store = open_sqlite_store(path, env);
  auto& again = (*store)->scalars();
  auto all = again.read(task->id, "m", "s", {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->steps, want_steps);
  EXPECT_EQ(all->values[199], 199.0);
  EXPECT_EQ(all->times[0], 1e9);
  auto after = again.summaries(task->id);
  EXPECT_EQ(after->at(0).count, before->at(0).count);
  EXPECT_EQ(after->at(0).max_value, 1e6);
  ScalarReadOptions opt;
  opt.max_points = 100;
  auto d = again.read(task->id, "m", "s", opt);
  ASSERT_TRUE(d);
  EXPECT_NE(std::find(d->values.begin(), d->values.end(), 1e6), d->values.end());
}

TEST(Compaction, RunsInTheBackground) {
  testing::TempDir dir;
  RealEnv env;
  std::string path = dir.path() + "/rh.db";
  auto store = open_sqlite_store(path, env);
  auto task = (*store)->tasks().create(NewTask{"p", "t"});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*store)->scalars().append(task->id, {ScalarSeries{"m", "s", {i}, {1.0}, {}}}));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (chunk_count(path) > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(chunk_count(path), 1);
  EXPECT_EQ((*store)->scalars().read(task->id, "m", "s", {})->steps.size(), 10u);
}

}  // namespace
}  // namespace rh

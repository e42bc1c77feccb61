#include "roundhouse/search/space.h"

#include <gtest/gtest.h>

namespace rh::search {
namespace {

Hyperparameter int_hp(int64_t lo, int64_t hi, int64_t count) {
  Hyperparameter h;
  h.kind = Hyperparameter::Kind::integer;
  h.minval = double(lo);
  h.maxval = double(hi);
  h.count = count;
  return h;
}

// Determined's TestGrid: names in order, the first varying slowest.
TEST(GridTest, IntegerAxesInDeterminedsOrder) {
  Space s{{"1", int_hp(0, 20, 3)}, {"2", int_hp(0, 10, 3)}};
  std::vector<Json> want;
  for (int a : {0, 10, 20})
    for (int b : {0, 5, 10})
      want.push_back(Json{{"1", a}, {"2", b}});
  EXPECT_EQ(grid(s), want);
}

TEST(GridTest, NestedGroupsKeepTheirShapeAndEmptyGroupsStay) {
  Hyperparameter nested;
  nested.kind = Hyperparameter::Kind::nested;
  nested.nested["3"] = int_hp(0, 10, 3);
  Hyperparameter empty;
  empty.kind = Hyperparameter::Kind::nested;
  Space s{{"1", int_hp(0, 20, 3)}, {"2", nested}, {"0", empty}};
  auto g = grid(s);
  ASSERT_EQ(g.size(), 9u);
  EXPECT_EQ(g[1], (Json{{"0", Json::object()}, {"1", 0}, {"2", {{"3", 5}}}}));
  EXPECT_EQ(g[8], (Json{{"0", Json::object()}, {"1", 20}, {"2", {{"3", 10}}}}));
}

TEST(GridTest, CountsClampRoundAndCentre) {
  // Four integers in [0, 3]: a count of 7 gives each once.
  EXPECT_EQ(grid(Space{{"x", int_hp(0, 3, 7)}}).size(), 4u);
  // Count 1 is the middle, rounded half away from zero (Go's math.Round).
  EXPECT_EQ(grid(Space{{"x", int_hp(1, 2, 1)}})[0]["x"], 2);
  // Rounded points: 0, 3.33 -> 3, 6.67 -> 7, 10.
  std::vector<int> xs;
  for (const auto& p : grid(Space{{"x", int_hp(0, 10, 4)}}))
    xs.push_back(p["x"].get<int>());
  EXPECT_EQ(xs, (std::vector<int>{0, 3, 7, 10}));
  Hyperparameter lg;
  lg.kind = Hyperparameter::Kind::log;
  lg.minval = -3;
  lg.maxval = -1;
  lg.base = 10;
  lg.count = 3;
  auto g = grid(Space{{"lr", lg}});
  ASSERT_EQ(g.size(), 3u);
  EXPECT_DOUBLE_EQ(g[0]["lr"].get<double>(), 0.001);
  EXPECT_DOUBLE_EQ(g[1]["lr"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(g[2]["lr"].get<double>(), 0.1);
}

TEST(GridTest, ProductOfEveryAxis) {
  Space s;
  int64_t want = 1;
  int i = 0;
  for (int64_t c : {2, 2, 3, 3, 4, 5}) {
    Hyperparameter d;
    d.kind = Hyperparameter::Kind::real;
    d.minval = -1;
    d.maxval = 1;
    d.count = c;
    s["p" + std::to_string(i++)] = d;
    want *= c;
  }
  EXPECT_EQ(int64_t(grid(s).size()), want);
}

TEST(GridTest, ANumericHyperparameterWithoutCountIsRefusedByName) {
  Hyperparameter d;
  d.kind = Hyperparameter::Kind::real;
  Hyperparameter g;
  g.kind = Hyperparameter::Kind::nested;
  g.nested["lr"] = d;
  auto st = check_grid(Space{{"optimizer", g}});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("hyperparameters.optimizer.lr"), std::string::npos);
  EXPECT_NE(st.error().message.find("count"), std::string::npos);
}

TEST(SampleTest, ValuesStayInRangeAndTheGeneratorRestores) {
  Hyperparameter cat;
  cat.kind = Hyperparameter::Kind::categorical;
  cat.vals = {"adam", "sgd"};
  Hyperparameter lg;
  lg.kind = Hyperparameter::Kind::log;
  lg.minval = -4;
  lg.maxval = -1;
  Space s{{"n", int_hp(1, 3, 0)}, {"opt", cat}, {"lr", lg}};
  Rng rng(7);
  for (int i = 0; i < 200; ++i) {
    Json x = sample(s, rng);
    EXPECT_GE(x["n"].get<int>(), 1);
    EXPECT_LE(x["n"].get<int>(), 3);
    EXPECT_TRUE(x["opt"] == "adam" || x["opt"] == "sgd");
    EXPECT_GE(x["lr"].get<double>(), 1e-4);
    EXPECT_LE(x["lr"].get<double>(), 1e-1);
  }
  std::string saved = rng.save();
  Json next = sample(s, rng);
  Rng again;
  ASSERT_TRUE(again.load(saved));
  EXPECT_EQ(sample(s, again), next);
}

}  // namespace
}  // namespace rh::search

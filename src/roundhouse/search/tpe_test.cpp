#include "roundhouse/search/tpe.h"

#include <gtest/gtest.h>

#include <cmath>

namespace rh::search {
namespace {

Space space() {
  Space s;
  Hyperparameter x;
  x.kind = Hyperparameter::Kind::real;
  x.minval = 0;
  x.maxval = 1;
  s["x"] = x;
  Hyperparameter lr;
  lr.kind = Hyperparameter::Kind::log;
  lr.minval = -4;
  lr.maxval = 0;
  s["lr"] = lr;
  Hyperparameter n;
  n.kind = Hyperparameter::Kind::integer;
  n.minval = 1;
  n.maxval = 9;
  s["n"] = n;
  Hyperparameter c;
  c.kind = Hyperparameter::Kind::categorical;
  c.vals = {Json("a"), Json("b"), Json("c")};
  s["c"] = c;
  Hyperparameter g;
  g.kind = Hyperparameter::Kind::nested;
  g.nested["k"] = Hyperparameter{};
  g.nested["k"].value = 7;
  s["g"] = g;
  return s;
}

// Observations drawn uniformly, their loss the distance from x = 0.8,
// lr = 1e-2, n = 3 and c = "b".
std::vector<Observation> observed(size_t count) {
  Rng rng(11);
  std::vector<Observation> out;
  for (size_t i = 0; i < count; ++i) {
    Json h = sample(space(), rng);
    double loss = 2 * std::abs(h["x"].get<double>() - 0.8) +
                  std::abs(std::log10(h["lr"].get<double>()) + 2) / 4 +
                  std::abs(h["n"].get<double>() - 3) / 8 + (h["c"] == "b" ? 0 : 0.5);
    out.push_back(Observation{h, loss});
  }
  return out;
}

TEST(Tpe, FewObservationsGiveAUniformSample) {
  Rng a(5), b(5);
  EXPECT_EQ(tpe_sample(space(), observed(9), a), sample(space(), b));
}

TEST(Tpe, SamplesConcentrateWhereTheGoodTrialsAre) {
  auto obs = observed(200);
  Rng rng(3);
  int near_x = 0, near_lr = 0, near_n = 0, is_b = 0;
  const int draws = 200;
  for (int i = 0; i < draws; ++i) {
    Json h = tpe_sample(space(), obs, rng);
    double x = h["x"].get<double>(), lr = h["lr"].get<double>();
    int64_t n = h["n"].get<int64_t>();
    ASSERT_TRUE(x >= 0 && x <= 1 && lr >= 1e-4 && lr <= 1 && n >= 1 && n <= 9) << h.dump();
    EXPECT_EQ(h["g"], (Json{{"k", 7}}));
    near_x += std::abs(x - 0.8) < 0.15;
    near_lr += std::abs(std::log10(lr) + 2) < 0.6;
    near_n += std::abs(n - 3) <= 1;
    is_b += h["c"] == "b";
  }
  // Uniform draws land there 30 %, 30 %, 33 % and 33 % of the time.
  EXPECT_GT(near_x, draws * 6 / 10) << near_x << " " << near_lr << " " << near_n << " " << is_b;
  EXPECT_GT(near_lr, draws * 6 / 10) << near_lr;
  EXPECT_GT(near_n, draws * 6 / 10) << near_n;
  EXPECT_GT(is_b, draws * 8 / 10) << is_b;
}

TEST(Tpe, TheSameGeneratorStateDrawsTheSameValues) {
  auto obs = observed(50);
  Rng a(9), b(9);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(tpe_sample(space(), obs, a), tpe_sample(space(), obs, b));
}

}  // namespace
}  // namespace rh::search

#include "roundhouse/search/searcher.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "roundhouse/search/adaptive.h"
#include "roundhouse/search/rungs.h"

namespace rh::search {
namespace {

// Determined's TestBracketMaxTrials / TestBracketMaxConcurrentTrials / TestMakeBrackets.
TEST(AdaptiveAshaTest, BracketArithmeticIsDetermineds) {
  EXPECT_EQ(bracket_max_trials(20, 3., {3, 2, 1}), (std::vector<int64_t>{12, 5, 3}));
  EXPECT_EQ(bracket_max_trials(50, 3., {4, 3}), (std::vector<int64_t>{35, 15}));
  EXPECT_EQ(bracket_max_trials(50, 4., {3, 2}), (std::vector<int64_t>{37, 13}));
  EXPECT_EQ(bracket_max_trials(100, 4., {4, 3, 2}), (std::vector<int64_t>{70, 22, 8}));
  EXPECT_EQ(bracket_max_concurrent_trials(0, 3., {9, 3, 1}), (std::vector<int64_t>{3, 3, 3}));
  EXPECT_EQ(bracket_max_concurrent_trials(11, 3., {9, 3, 1}), (std::vector<int64_t>{4, 4, 3}));
  EXPECT_EQ(bracket_max_concurrent_trials(0, 4., {40, 10}), (std::vector<int64_t>{10, 10}));

  SearcherConfig standard;
  standard.name = "adaptive_asha";
  standard.mode = "standard";
  standard.max_length = 100;
  standard.max_concurrent_trials = 2;
  standard.max_trials = 10;
  EXPECT_EQ(make_brackets(standard), (std::vector<Bracket>{{2, 7, 1}, {1, 3, 1}}));
  SearcherConfig conservative = standard;
  conservative.mode = "conservative";
  conservative.max_length = 1000;
  conservative.divisor = 3;
  conservative.max_concurrent_trials = 5;
  EXPECT_EQ(make_brackets(conservative), (std::vector<Bracket>{{3, 7, 2}, {2, 2, 2}, {1, 1, 1}}));
}

// Determined's TestMakeRungs (0.38).
TEST(AshaTest, RungLengthsAreDetermineds) {
  EXPECT_EQ(rung_lengths(3, 3, 9), (std::vector<uint64_t>{1, 3, 9}));
  EXPECT_EQ(rung_lengths(4, 2, 10), (std::vector<uint64_t>{1, 2, 5, 10}));
  EXPECT_EQ(rung_lengths(1, 3, 9), (std::vector<uint64_t>{9}));
  EXPECT_EQ(rung_lengths(3, 3, 900), (std::vector<uint64_t>{100, 300, 900}));
}

Space x_space() {
  Hyperparameter x;
  x.kind = Hyperparameter::Kind::real;
  x.minval = 0;
  x.maxval = 1;
  x.count = 5;
  return Space{{"x", x}};
}

// Lower is better: closer to 0.3, and better the longer a trial trains.
double loss(const Json& hp, uint64_t units) {
  return std::abs(hp["x"].get<double>() - 0.3) + 1.0 / double(units + 1);
}

struct Trial {
  Json hp;
  uint64_t units = 0, target = 0;
  enum { running, paused, done } state = running;
  int resumed = 0;
};

// Runs a search to its end as agents would: running trials (lowest number
// first) train a unit at a time and validate after each; a trial at its
// target with nothing more to do ends. With `restart`, the search is saved
// and restored from text after every event, as a server restart would.
struct Sim {
  SearcherConfig config;
  bool restart = false;
  std::map<int64_t, Trial> trials;
  std::vector<std::string> log;
  size_t max_running = 0;

  void run(uint64_t seed = 3) {
    auto s = Search::start(config, x_space(), seed);
    ASSERT_TRUE(s) << s.error().message;
    Search search = std::move(*s);
    std::deque<Action> todo;
    auto take = [&](std::vector<Action> as) {
      for (auto& a : as)
        todo.push_back(std::move(a));
      if (restart) {
        auto back = Search::restore(config, x_space(), Json::parse(search.snapshot().dump()));
        ASSERT_TRUE(back) << back.error().message;
        search = std::move(*back);
      }
    };
    take(search.initial_trials());
    for (int guard = 0; guard < 1000000; ++guard) {
      while (!todo.empty()) {
        Action a = std::move(todo.front());
        todo.pop_front();
        log.push_back(std::to_string(int(a.kind)) + ":" + std::to_string(a.trial) + ":" +
                      std::to_string(a.until));
        if (a.kind == Action::Kind::create) {
          ASSERT_FALSE(trials.count(a.trial)) << "trial " << a.trial << " created twice";
          trials[a.trial] = Trial{a.hparams, 0, a.until};
          take(search.trial_created(a.trial));
        } else {
          ASSERT_TRUE(trials.count(a.trial));
          Trial& t = trials[a.trial];
          ASSERT_NE(t.state, Trial::done) << "an action on trial " << a.trial << " after it ended";
          if (a.kind == Action::Kind::train) {
            ASSERT_GT(a.until, t.units) << "trained to where it already is";
            if (t.state == Trial::paused)
              ++t.resumed;
            t.state = Trial::running;
            t.target = a.until;
          } else if (a.kind == Action::Kind::pause) {
            t.state = Trial::paused;
          } else {
            t.state = Trial::done;
            take(search.trial_exited(a.trial));
          }
        }
      }
      size_t running = 0;
      int64_t next = -1;
      for (auto& [id, t] : trials) {
        if (t.state == Trial::running) {
          ++running;
          if (next < 0)
            next = id;
        }
      }
      max_running = std::max(max_running, running);
      if (next < 0)
        return;
      Trial& t = trials[next];
      if (t.units >= t.target) {  // at its length with nothing more asked: it ends
        t.state = Trial::done;
        take(search.trial_exited(next));
        continue;
      }
      ++t.units;
      take(search.validation(next, t.units, loss(t.hp, t.units)));
    }
    FAIL() << "the search did not end";
  }
};

TEST(SearcherTest, RandomRunsMaxTrialsAtMostConcurrentAtOnce) {
  Sim sim;
  sim.config.name = "random";
  sim.config.max_trials = 7;
  sim.config.max_concurrent_trials = 3;
  sim.config.max_length = 4;
  sim.run();
  EXPECT_EQ(sim.trials.size(), 7u);
  EXPECT_LE(sim.max_running, 3u);
  for (const auto& [id, t] : sim.trials)
    EXPECT_EQ(t.units, 4u) << id;
}

TEST(SearcherTest, GridTriesEveryPointOnce) {
  Sim sim;
  sim.config.name = "grid";
  sim.config.max_concurrent_trials = 2;
  sim.config.max_length = 2;
  sim.run();
  std::set<double> xs;
  for (const auto& [id, t] : sim.trials)
    xs.insert(t.hp["x"].get<double>());
  EXPECT_EQ(xs, (std::set<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_LE(sim.max_running, 2u);
}

TEST(SearcherTest, StopBasedAshaStopsTheWorseAndTrainsTheBestToTheEnd) {
  Sim sim;
  sim.config.name = "async_halving";
  sim.config.stop_once = true;
  sim.config.metric = "loss";
  sim.config.num_rungs = 3;
  sim.config.max_length = 64;  // rungs at 4, 16, 64
  sim.config.max_trials = 16;
  sim.config.max_concurrent_trials = 4;
  sim.run();
  EXPECT_EQ(sim.trials.size(), 16u);
  int64_t best = -1, full = 0;
  for (const auto& [id, t] : sim.trials) {
    if (best < 0 || loss(t.hp, 64) < loss(sim.trials[best].hp, 64))
      best = id;
    full += t.units == 64;
    EXPECT_TRUE(t.units == 4 || t.units == 16 || t.units == 64) << "stopped between rungs";
  }
  EXPECT_LT(full, 16) << "nothing was stopped early";
  // It ranks first in every rung it reaches, so it is never stopped early.
  EXPECT_EQ(sim.trials[best].units, 64u);
}

TEST(SearcherTest, PromotionAshaPausesTheUnpromotedAndResumesThemWhenPromoted) {
  Sim sim;
  sim.config.name = "async_halving";
  sim.config.metric = "loss";
  sim.config.num_rungs = 3;
  sim.config.divisor = 2;
  sim.config.max_length = 16;  // rungs at 4, 8, 16
  sim.config.max_trials = 12;
  sim.config.max_concurrent_trials = 3;
  sim.run();
  EXPECT_EQ(sim.trials.size(), 12u);
  EXPECT_LE(sim.max_running, 3u);
  int top = 0, resumed = 0;
  for (const auto& [id, t] : sim.trials) {
    EXPECT_TRUE(t.units == 4 || t.units == 8 || t.units == 16) << id << " at " << t.units;
    EXPECT_EQ(t.state, Trial::done);
    top += t.units == 16;
    resumed += t.resumed;
  }
  EXPECT_GE(top, 1);
  EXPECT_GE(resumed, 1) << "no paused trial was ever promoted";
}

TEST(SearcherTest, AdaptiveAshaRunsEveryBracketsTrials) {
  for (bool stop_once : {false, true}) {
    Sim sim;
    sim.config.name = "adaptive_asha";
    sim.config.stop_once = stop_once;
    sim.config.metric = "loss";
    sim.config.max_length = 64;
    sim.config.max_trials = 20;
    sim.config.max_concurrent_trials = 4;
    sim.run();
    EXPECT_EQ(sim.trials.size(), 20u) << "stop_once " << stop_once;
    EXPECT_LE(sim.max_running, 4u);
  }
}

TEST(SearcherTest, ARestartAfterEveryEventChangesNothing) {
  for (std::string name : {"random", "grid", "async_halving", "adaptive_asha",
                           "async_halving/local", "adaptive_asha/local"}) {
    for (bool stop_once : {false, true}) {
      SearcherConfig c;
      c.name = name.substr(0, name.find('/'));
      c.sampler = name.ends_with("/local") ? "local" : "random";
      c.stop_once = stop_once;
      c.metric = "loss";
      c.num_rungs = 3;
      c.max_length = 32;
      c.max_trials = 12;
      c.max_concurrent_trials = 3;
      Sim plain{c, false}, restarted{c, true};
      plain.run();
      restarted.run();
      EXPECT_EQ(plain.log, restarted.log) << name << " stop_once " << stop_once;
      EXPECT_EQ(plain.trials.size(), restarted.trials.size());
    }
  }
}

TEST(SearcherTest, LocalSamplingPerturbsTheLeadersWithinTheSpace) {
  Space space;
  space["lr"] = Hyperparameter{.kind = Hyperparameter::Kind::log, .minval = -4, .maxval = 0};
  space["n"] = Hyperparameter{.kind = Hyperparameter::Kind::integer, .minval = 1, .maxval = 9};
  space["opt"] = Hyperparameter{.kind = Hyperparameter::Kind::categorical, .vals = {"sgd", "adam"}};
  Rng rng(3);
  Json from{{"lr", 0.01}, {"n", 5}, {"opt", "adam"}};
  int kept = 0, near = 0;
  for (int i = 0; i < 400; ++i) {
    Json p = perturb(space, from, rng);
    double e = std::log10(p["lr"].get<double>());
    ASSERT_GE(e, -4 - 1e-9);
    ASSERT_LE(e, 0 + 1e-9);
    ASSERT_TRUE(p["n"].is_number_integer());
    ASSERT_GE(p["n"].get<int64_t>(), 1);
    ASSERT_LE(p["n"].get<int64_t>(), 9);
    kept += p["opt"] == "adam";
    near += std::abs(e + 2) < 1.2;  // within 2 sd (0.15 * 4 = 0.6) of the exponent -2
  }
  EXPECT_GT(kept, 300);  // 3/4 kept, 1/8 redrawn as adam too
  EXPECT_GT(near, 360);
}

TEST(SearcherTest, InvalidHyperparametersAreReplacedInRandomSearch) {
  auto s = Search::start(
      SearcherConfig{
          .name = "random", .max_length = 1, .max_trials = 2, .max_concurrent_trials = 1},
      x_space(), 1);
  ASSERT_TRUE(s);
  auto first = s->initial_trials();
  ASSERT_EQ(first.size(), 1u);
  auto replaced = s->trial_exited_early(first[0].trial, ExitReason::invalid_hp);
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0].kind, Action::Kind::create);
  auto second = s->trial_exited(replaced[0].trial);
  ASSERT_EQ(second.size(), 1u) << "the invalid trial counted against max_trials";
  EXPECT_TRUE(s->trial_exited(second[0].trial).empty());
}

TEST(SearcherTest, BadConfigsAreRefusedNamingTheKey) {
  auto expect = [](SearcherConfig c, const std::string& key) {
    auto s = make_searcher(c);
    ASSERT_FALSE(s) << key;
    EXPECT_NE(s.error().message.find("searcher." + key), std::string::npos) << s.error().message;
  };
  expect(SearcherConfig{.name = "bayes"}, "name");
  expect(SearcherConfig{.name = "adaptive_asha", .max_length = 10, .max_trials = 4}, "metric");
  expect(SearcherConfig{.name = "adaptive_asha", .metric = "m", .max_trials = 4}, "max_length");
  expect(
      SearcherConfig{
          .name = "adaptive_asha", .metric = "m", .max_length = 9, .max_trials = 4, .mode = "wild"},
      "mode");
  expect(SearcherConfig{.name = "async_halving", .metric = "m", .max_length = 9, .max_trials = 4},
         "num_rungs");
  expect(SearcherConfig{.name = "random", .max_trials = 0}, "max_trials");
  auto g = Search::start(SearcherConfig{.name = "grid"},
                         Space{{"x", Hyperparameter{.kind = Hyperparameter::Kind::real}}}, 0);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("hyperparameters.x"), std::string::npos);
}

}  // namespace
}  // namespace rh::search

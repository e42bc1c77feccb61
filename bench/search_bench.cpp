// Searcher decision latency (not a test: prints figures). An experiment of
// 10,000 trials, 16 at a time, driven to its end as agents would drive it
// (each running trial validates every unit, lowest trial number first);
// each validation's decision is timed, and one in 100 also with the JSON
// snapshot of the whole search state (what a server saving the state after
// every event would pay).
// Usage: build/bench/rh_search_bench [max_trials]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "roundhouse/search/searcher.h"

using namespace rh::search;
using Clock = std::chrono::steady_clock;

namespace {

struct Trial {
  rh::Json hp;
  uint64_t units = 0, target = 0;
  int state = 0;  // 0 running, 1 paused, 2 done
};

double us(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

void report(const char* name, std::vector<double>& decide, std::vector<double>& with_snapshot,
            size_t trials, size_t snapshot_bytes) {
  auto pct = [](std::vector<double>& v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
  };
  std::printf(
      "%-28s trials %6zu  validations %8zu  decide median %7.2f us p99 %8.2f us  "
      "+snapshot median %8.1f us p99 %8.1f us  (final state %zu KiB)\n",
      name, trials, decide.size(), pct(decide, 0.5), pct(decide, 0.99), pct(with_snapshot, 0.5),
      pct(with_snapshot, 0.99), snapshot_bytes / 1024);
}

void run(const char* label, SearcherConfig c) {
  Hyperparameter x;
  x.kind = Hyperparameter::Kind::real;
  x.minval = 0;
  x.maxval = 1;
  auto s = Search::start(c, Space{{"x", x}}, 1);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    std::exit(1);
  }
  Search search = std::move(*s);
  std::map<int64_t, Trial> trials;
  std::set<int64_t> running;
  std::deque<Action> todo;
  std::vector<double> decide, with_snapshot;
  size_t snapshot_bytes = 0;
  auto take = [&](std::vector<Action> as) {
    for (auto& a : as)
      todo.push_back(std::move(a));
  };
  take(search.initial_trials());
  while (true) {
    while (!todo.empty()) {
      Action a = std::move(todo.front());
      todo.pop_front();
      if (a.kind == Action::Kind::create) {
        trials[a.trial] = Trial{a.hparams, 0, a.until, 0};
        running.insert(a.trial);
        take(search.trial_created(a.trial));
      } else if (a.kind == Action::Kind::train) {
        trials[a.trial].state = 0;
        trials[a.trial].target = a.until;
        running.insert(a.trial);
      } else if (a.kind == Action::Kind::pause) {
        trials[a.trial].state = 1;
        running.erase(a.trial);
      } else {
        trials[a.trial].state = 2;
        running.erase(a.trial);
        take(search.trial_exited(a.trial));
      }
    }
    if (running.empty())
      break;
    int64_t next = *running.begin();
    Trial& t = trials[next];
    if (t.units >= t.target) {
      t.state = 2;
      running.erase(next);
      take(search.trial_exited(next));
      continue;
    }
    ++t.units;
    double metric = std::abs(t.hp["x"].get<double>() - 0.3) + 1.0 / double(t.units + 1);
    auto t0 = Clock::now();
    auto actions = search.validation(next, t.units, metric);
    auto t1 = Clock::now();
    decide.push_back(us(t1 - t0));
    if (decide.size() % 100 == 0) {
      std::string saved = search.snapshot().dump();
      with_snapshot.push_back(us(Clock::now() - t0));
      snapshot_bytes = saved.size();
    }
    take(std::move(actions));
  }
  report(label, decide, with_snapshot, trials.size(), snapshot_bytes);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t max_trials = argc > 1 ? std::atoll(argv[1]) : 10000;
  SearcherConfig base;
  base.metric = "loss";
  base.max_trials = max_trials;
  base.max_concurrent_trials = 16;
  base.max_length = 81;
  base.divisor = 3;
  SearcherConfig stop = base, promote = base, adaptive = base;
  stop.name = promote.name = "async_halving";
  stop.num_rungs = promote.num_rungs = 5;
  stop.stop_once = true;
  adaptive.name = "adaptive_asha";
  run("async_halving, stop-based", stop);
  run("async_halving, promotions", promote);
  run("adaptive_asha, promotions", adaptive);
}

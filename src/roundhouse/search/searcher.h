// Searchers: how an experiment decides which trials to run, how far, and
// which to stop. Each is a state machine driven by events (a trial was
// created, reported a validation, exited) that answers with actions
// (create a trial, train it until a length, pause it, stop it), with no I/O:
// the server applies the actions and saves snapshot() in the same write, so
// a restarted server restore()s the search and goes on without creating or
// losing trials. The arithmetic follows Determined's master (grid order,
// random's refill, ASHA's rungs and brackets; see docs/experiments.md).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "roundhouse/search/space.h"
#include "roundhouse/util/error.h"

namespace rh::search {

struct Action {
  enum class Kind {
    create,  // a new trial (`trial`, `hparams`), to train until `until`
    train,   // train `trial` on until `until` (a paused trial is resumed first)
    pause,   // checkpoint `trial` and free its agent; a later `train` resumes it
    stop,    // `trial` is done: let it end (checkpointing first)
  };
  Kind kind = Kind::create;
  int64_t trial = 0;
  Json hparams;        // create
  uint64_t until = 0;  // create, train: the length (in the searcher's unit) to reach
  bool operator==(const Action&) const = default;
};

enum class ExitReason { errored, invalid_hp, user_canceled };

// What a searcher needs besides its own state: the space, the generator and
// the next trial number (trials are numbered 1, 2, ... in creation order).
struct Context {
  Space space;
  Rng rng;
  int64_t next_trial = 1;
  int64_t new_trial() { return next_trial++; }
};

struct SearcherConfig {
  // single, random, grid, async_halving, adaptive_asha; also test_run (not a
  // config's choice: the one trial of `rh experiment create --test`).
  std::string name = "single";
  std::string metric;
  bool smaller_is_better = true;
  uint64_t max_length = 0;  // in the searcher's unit (batches, epochs, records or time_metric)
  int64_t max_trials = 1;
  int64_t max_concurrent_trials = 16;  // 0 = the searcher's own default
  // ASHA
  std::string mode = "standard";  // adaptive_asha: aggressive, standard, conservative
  double divisor = 4;
  int64_t max_rungs = 5;               // adaptive_asha
  std::vector<int64_t> bracket_rungs;  // adaptive_asha: set, or derived from mode
  int64_t num_rungs = 0;               // async_halving
  // Stop-based (Determined 0.38: stop a trial that is not in the top
  // 1/divisor of its rung) or promotion-based (0.37: a trial trains one rung
  // at a time and goes on only when promoted; here it is paused meanwhile).
  bool stop_once = false;
  // How promotion-based ASHA draws a new trial's values: "random" (as
  // Determined), or "local" (Roundhouse's): half the time, a perturbation
  // (space.h: perturb) of one of the top 1/divisor trials of the highest
  // rung that has ranked at least `divisor` trials; else at random. Or
  // "tpe" (Roundhouse's): tree-structured Parzen estimators (tpe.h) over
  // the trials ranked so far, a higher rung ranking before a lower one.
  std::string sampler = "random";
};

class Searcher {
 public:
  virtual ~Searcher() = default;
  virtual std::vector<Action> initial_trials(Context& ctx) = 0;
  virtual std::vector<Action> trial_created(Context& ctx, int64_t trial) = 0;
  // `units`: how far the trial had trained when it validated; `metric`: the
  // searcher metric as reported (smaller_is_better is applied inside).
  virtual std::vector<Action> validation(Context& ctx, int64_t trial, uint64_t units,
                                         double metric) = 0;
  // The trial ended as asked (it reached its length or was stopped).
  virtual std::vector<Action> trial_exited(Context& ctx, int64_t trial) = 0;
  virtual std::vector<Action> trial_exited_early(Context& ctx, int64_t trial, ExitReason why) = 0;
  // 0..1, how much of the search is done.
  virtual double progress() const = 0;
  virtual Json snapshot() const = 0;
  virtual Status restore(const Json& state) = 0;
};

// invalid_argument naming the key for a config the searcher cannot run.
Result<std::unique_ptr<Searcher>> make_searcher(const SearcherConfig& config);

// A whole search: the searcher with its context, saved and restored as one.
class Search {
 public:
  static Result<Search> start(const SearcherConfig& config, Space space, uint64_t seed);
  static Result<Search> restore(const SearcherConfig& config, Space space, const Json& state);
  std::vector<Action> initial_trials() { return m_searcher->initial_trials(m_ctx); }
  std::vector<Action> trial_created(int64_t t) { return m_searcher->trial_created(m_ctx, t); }
  std::vector<Action> validation(int64_t t, uint64_t units, double metric) {
    return m_searcher->validation(m_ctx, t, units, metric);
  }
  std::vector<Action> trial_exited(int64_t t) { return m_searcher->trial_exited(m_ctx, t); }
  std::vector<Action> trial_exited_early(int64_t t, ExitReason why) {
    return m_searcher->trial_exited_early(m_ctx, t, why);
  }
  double progress() const { return m_searcher->progress(); }
  Json snapshot() const;

 private:
  Search(std::unique_ptr<Searcher> s, Context ctx)
      : m_searcher(std::move(s)), m_ctx(std::move(ctx)) {}
  std::unique_ptr<Searcher> m_searcher;
  Context m_ctx;
};

}  // namespace rh::search

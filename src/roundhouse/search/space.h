// The hyperparameter space of an experiment, as Determined defines it: a
// constant, an integer or a double in [minval, maxval] (inclusive), a log
// value base^x with x in [minval, maxval], a categorical choice, or a nested
// group of any of these to any depth. A sample is a JSON object with the
// same nesting. Names are visited in byte order (Determined sorts them), so
// grids and samples are the same whatever order the config listed them in.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "roundhouse/util/json.h"

namespace rh::search {

struct Hyperparameter {
  enum class Kind { constant, integer, real, log, categorical, nested };
  Kind kind = Kind::constant;
  Json value;         // constant
  double minval = 0;  // integer (a whole number), real, log (an exponent)
  double maxval = 0;
  double base = 10;              // log
  std::optional<int64_t> count;  // grid points (integer, real, log)
  std::vector<Json> vals;        // categorical
  std::map<std::string, Hyperparameter> nested;
};

using Space = std::map<std::string, Hyperparameter>;

// A seeded generator; its state is part of a search's saved state.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : m_gen(seed) {}
  int64_t uniform_int(int64_t lo, int64_t hi);  // inclusive
  double uniform(double lo, double hi);         // [lo, hi)
  std::string save() const;
  Status load(const std::string& text);

 private:
  std::mt19937_64 m_gen;
};

// One sample of every hyperparameter (integers uniform over [minval, maxval],
// doubles uniform, log = base^uniform(minval, maxval), categorical uniform).
Json sample(const Space& space, Rng& rng);

// A sample near `from` (a sample of the same space): numbers move by a
// normal step of sd `scale` times their range (a log value in its
// exponent), clamped to the range (integers rounded); a categorical value
// is kept with probability 3/4, else drawn anew; constants stay.
Json perturb(const Space& space, const Json& from, Rng& rng, double scale = 0.15);

// Every point of the grid, in Determined's order: the cartesian product of
// each hyperparameter's axis, names in byte order, the first name varying
// slowest. Axes: an integer's `count` is clamped to the integers in range
// and its points rounded; count 1 is the middle; real and log points are
// evenly spaced (log: in the exponent); a categorical axis is its values; a
// constant one value; an empty nested group stays an empty object.
std::vector<Json> grid(const Space& space);

// invalid_argument naming the hyperparameter when the grid cannot be made:
// a numeric one without `count`, or with count < 1.
Status check_grid(const Space& space, const std::string& where = "hyperparameters");

}  // namespace rh::search

// A tree-structured Parzen estimator sampler (Bergstra et al. 2011, as
// Optuna's default TPESampler works, univariate): the observed trials are
// split into the best gamma = min(ceil(0.1 n), 25) and the rest; each
// hyperparameter gets two Parzen densities over its range (numbers: a
// truncated Gaussian per observation, in the exponent for log values, with
// the uniform prior as one more component; categoricals: counts plus one),
// l from the good and g from the rest; 24 candidates are drawn from l and
// the one with the highest l/g is taken. Fewer than `startup` observations:
// a uniform sample. Deterministic for a given generator state.
#pragma once

#include <utility>
#include <vector>

#include "roundhouse/search/space.h"

namespace rh::search {

struct Observation {
  Json hparams;  // a sample of the space
  double loss;   // smaller is better; trials are ranked by it
};

Json tpe_sample(const Space& space, const std::vector<Observation>& observed, Rng& rng,
                size_t startup = 10, int candidates = 24);

}  // namespace rh::search

// Adaptive ASHA's brackets (Determined's arithmetic): several ASHA searches
// side by side, from the most aggressive early stopping (most rungs) to the
// least, splitting max_trials so each bracket gets about the same training
// budget and max_concurrent_trials evenly. Exposed for the tests, which
// check Determined's documented cases.
#pragma once

#include <cstdint>
#include <vector>

#include "roundhouse/search/searcher.h"

namespace rh::search {

struct Bracket {
  int64_t num_rungs = 0;
  int64_t max_trials = 0;
  int64_t max_concurrent_trials = 0;
  bool operator==(const Bracket&) const = default;
};

std::vector<int64_t> bracket_max_trials(int64_t max_trials, double divisor,
                                        const std::vector<int64_t>& bracket_rungs);
std::vector<int64_t> bracket_max_concurrent_trials(int64_t max_concurrent_trials, double divisor,
                                                   const std::vector<int64_t>& max_trials);
std::vector<Bracket> make_brackets(const SearcherConfig& c);

}  // namespace rh::search

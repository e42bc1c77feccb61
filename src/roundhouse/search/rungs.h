// ASHA's rung lengths, as Determined computes them: rung i of n needs
// max_length / divisor^(n-1-i) units (at least 1), both for stop-based and
// for promotion-based ASHA (Determined 0.37's promotions summed them; see
// asha_promotion.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "roundhouse/search/searcher.h"

namespace rh::search {

std::vector<uint64_t> rung_lengths(int64_t num_rungs, double divisor, uint64_t max_length);
// Trials an ASHA search starts with: max_concurrent_trials (at most
// max_trials), or when that is 0, enough for one to reach the top rung.
int64_t asha_initial_trials(const SearcherConfig& c, int64_t num_rungs);

}  // namespace rh::search

// ASHA's rung lengths, as Determined computes them: rung i of n needs
// max_length / divisor^(n-1-i) units (at least 1), both for stop-based and
// for promotion-based ASHA (Determined 0.37's promotions summed them; see
// asha_promotion.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace rh::search {

std::vector<uint64_t> rung_lengths(int64_t num_rungs, double divisor, uint64_t max_length);

}  // namespace rh::search

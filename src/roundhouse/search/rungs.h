// ASHA's rung lengths, as Determined computes them: rung i of n needs
// max_length / divisor^(n-1-i) units (at least 1). Stop-based ASHA (0.38)
// uses them as they are; promotion-based (0.37) trains one rung at a time,
// so its rungs are the running sums.
#pragma once

#include <cstdint>
#include <vector>

namespace rh::search {

std::vector<uint64_t> rung_lengths(int64_t num_rungs, double divisor, uint64_t max_length);
std::vector<uint64_t> cumulative_rung_lengths(int64_t num_rungs, double divisor,
                                              uint64_t max_length);

}  // namespace rh::search

#include "roundhouse/search/rungs.h"

#include <algorithm>
#include <cmath>

namespace rh::search {

std::vector<uint64_t> rung_lengths(int64_t num_rungs, double divisor, uint64_t max_length) {
  std::vector<uint64_t> out;
  for (int64_t i = 0; i < num_rungs; ++i) {
    double rate = std::pow(divisor, double(num_rungs - i - 1));
    out.push_back(std::max<uint64_t>(uint64_t(double(max_length) / rate), 1));
  }
  return out;
}

int64_t asha_initial_trials(const SearcherConfig& c, int64_t num_rungs) {
  if (c.max_concurrent_trials > 0)
    return std::min(c.max_concurrent_trials, c.max_trials);
  return std::clamp<int64_t>(int64_t(std::pow(c.divisor, double(num_rungs - 1))), 1, c.max_trials);
}

}  // namespace rh::search

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

}  // namespace rh::search

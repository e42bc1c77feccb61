// Runs a loop's iterations on several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "roundhouse/util/error.h"

namespace rh {

// Runs fn(i) for every i in [0, n) on `workers` threads (0: twice the cores,
// at most 16: file work waits on the kernel as much as it computes). The
// first error stops the others from taking new items and is returned.
// tick(done) is called, under a lock, every 256 items and at the end.
Status parallel_for(size_t n, const std::function<Status(size_t)>& fn,
                    const std::function<void(uint64_t)>& tick = {}, unsigned workers = 0);

}  // namespace rh

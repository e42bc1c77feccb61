#include "roundhouse/util/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace rh {

Status parallel_for(size_t n, const std::function<Status(size_t)>& fn,
                    const std::function<void(uint64_t)>& tick, unsigned workers) {
  if (workers == 0)
    workers = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency() * 2, 16));
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first;
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next++;
      if (i >= n)
        return;
      if (auto st = fn(i); !st) {
        std::lock_guard lk(mu);
        if (!first)
          first = st.error();
        failed = true;
        return;
      }
      uint64_t d = ++done;
      if (tick && (d % 256 == 0 || d == n)) {
        std::lock_guard lk(mu);
        tick(d);
      }
    }
  };
  size_t count = std::min<size_t>(workers, n);
  if (count <= 1) {
    work();
  } else {
    std::vector<std::thread> threads;
    for (size_t w = 0; w < count; ++w)
      threads.emplace_back(work);
    for (auto& t : threads)
      t.join();
  }
  if (first)
    return std::unexpected(*first);
  return {};
}

}  // namespace rh

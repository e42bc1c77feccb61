// Phase timings for finding where an operation spends its time: with
// RH_TRACE=1 in the environment, each Trace prints "rh trace: <name> <ms>"
// to stderr when it ends. Unset, a Trace is a branch on a cached flag.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace rh {

inline bool tracing() {
  static const bool on = std::getenv("RH_TRACE") != nullptr;
  return on;
}

class Trace {
 public:
  explicit Trace(const char* name) : m_name(name) {
    if (tracing())
      m_start = std::chrono::steady_clock::now();
  }
  ~Trace() { end(); }
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;
  // Ends the phase early (the destructor then prints nothing more).
  void end() {
    if (!tracing() || m_done)
      return;
    m_done = true;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - m_start)
                  .count();
    std::fprintf(stderr, "rh trace: %s %.1f ms\n", m_name, static_cast<double>(us) / 1000.0);
  }

 private:
  const char* m_name;
  std::chrono::steady_clock::time_point m_start{};
  bool m_done = false;
};

}  // namespace rh

// A seam for crash tests: with RH_CRASH_AT=<name> in the environment the
// process ends at the point of that name exactly as SIGKILL would end it (no
// destructors, no flushing), so a test can stop a multi-step write between
// two of its steps and check what a real crash there leaves behind.
// RH_CRASH_AT=<name>@<n> ends it the n-th time the point is reached (points
// inside parallel loops: "after some objects, not all").
#pragma once

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rh {

inline void crash_point(const char* name) {
  static const char* at = std::getenv("RH_CRASH_AT");
  if (at == nullptr)
    return;
  static const std::string spec = at;
  static const size_t sep = spec.find('@');
  static const long nth = sep == std::string::npos ? 1 : std::atol(spec.c_str() + sep + 1);
  if (spec.compare(0, sep, name) != 0)
    return;
  static std::atomic<long> reached{0};
  if (++reached == nth)
    std::raise(SIGKILL);
}

}  // namespace rh

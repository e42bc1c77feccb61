// Running helper programs (git, an interpreter's --version) and capturing
// what they print. For the long-running, streamed child of `rh run` and of
// an agent see run/supervise.h.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {

struct ProcessOutput {
  int exit_code = -1;  // -1 when it did not exit normally (signal, timeout)
  std::string out;     // stdout; stderr is discarded
};

// Runs argv (PATH lookup) in cwd (empty = current); kills it after timeout_ms.
// Failing to start is `not_found`; a non-zero exit is a result, not an error.
// With with_stderr, stderr lands in `out` too (for error messages).
Result<ProcessOutput> run_capture(const std::vector<std::string>& argv, const std::string& cwd = {},
                                  int timeout_ms = 10000, bool with_stderr = false);

}  // namespace rh

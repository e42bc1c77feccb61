// The `rh` command line: parses arguments and dispatches to one file per
// command group. Returns the process exit status.
#pragma once

namespace rh::cli {

int run_main(int argc, char** argv);

}  // namespace rh::cli

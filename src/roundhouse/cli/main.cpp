#include "roundhouse/cli/main.h"

#include <cstdio>

namespace rh::cli {

int run_main(int argc, char** argv) {
  std::fprintf(stderr, "rh: not yet\n");
  return 2;
}

}  // namespace rh::cli

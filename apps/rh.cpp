#include "roundhouse/cli/main.h"

int main(int argc, char** argv) {
  return rh::cli::run_main(argc, argv);
}

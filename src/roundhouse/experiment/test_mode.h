// Test mode on this machine (`rh experiment create --local --test`), with no
// server or agent: the config is checked, the context packed and unpacked
// as an agent would, one sampled configuration is trained to length 1 and
// must report the searcher metric and save a checkpoint, then the trial is
// started again to length 2 from that checkpoint and must restore it and
// continue its step count. Each step is printed; the first that fails is
// named. The trial protocol is python/roundhouse/trial.py's: RH_TRIAL_DIR
// holds trial.json (written here) and reports.jsonl (written by the trial).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh::experiment {

struct LocalTestOptions {
  std::string config_path;
  std::string context_dir;  // default: the config's folder
  std::vector<std::string> overrides;
  std::string work_dir;  // created; the workspace, trial folder and checkpoints go here
  uint64_t context_limit = uint64_t(1) << 30;
};

// OK when the trial passed; otherwise the error says which step failed and why.
Status run_local_test(const LocalTestOptions& o, std::FILE* out);

}  // namespace rh::experiment

// An experiment's config: Roundhouse's keys, and Determined's experiment
// YAML accepted as it is, both the 0.37 form (searcher.max_length as
// {batches|epochs|records: N} or a number, records_per_epoch,
// min_validation_period) and the 0.38 form (searcher.time_metric +
// searcher.max_time). Everything is checked before anything runs: an
// unknown key, a wrong type, minval > maxval, a grid without count, an
// unknown searcher are each an error naming the file, the YAML line and the
// key path. Keys accepted without effect here are listed in `warnings`,
// never dropped silently. docs/experiments.md lists every key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "roundhouse/search/searcher.h"
#include "roundhouse/search/space.h"
#include "roundhouse/util/error.h"

namespace rh::experiment {

struct Config {
  std::string name, description, project;
  std::vector<std::string> labels;
  Json data = Json::object();  // handed to the trials as it is
  // A shell command (one string) or an argv list.
  std::string entrypoint_shell;
  std::vector<std::string> entrypoint_argv;
  search::Space hyperparameters;
  search::SearcherConfig searcher;
  // What searcher.max_length counts: "batches", "epochs", "records", the
  // 0.38 form's time_metric, or "" for a bare number (units the code counts).
  std::string length_unit;
  bool determined_038 = false;  // written in the time_metric/max_time form
  int64_t records_per_epoch = 0;
  std::string min_validation_unit;
  uint64_t min_validation_period = 0;
  // searcher.source_trial_id: the task ID (or a unique prefix) of a trial
  // whose latest checkpoint every trial starts from (warm start).
  std::string source_trial;
  uint64_t seed = 0;         // reproducibility.experiment_seed (0: drawn at create)
  int64_t max_restarts = 5;  // per trial
  // Checkpoint garbage collection: the union of these is kept.
  int64_t save_experiment_best = 0, save_trial_best = 1, save_trial_latest = 1;
  int64_t slots_per_trial = 1;  // GPUs a trial's agent must have
  std::string resource_pool;    // the queue, unless --queue
  int64_t priority = 0;         // higher runs first
  std::map<std::string, std::string> environment_variables;
  std::vector<std::string> warnings;  // "<file>:<line>: <key>: ..." for keys without effect
};

// `overrides`: "key.path=value" (value as YAML), applied before the checks,
// as `--config` does. `file` names the text in messages.
Result<Config> parse_config(std::string_view text, const std::string& file,
                            const std::vector<std::string>& overrides = {});

}  // namespace rh::experiment

// How experiments and their trials are kept in the MetadataStore: both are
// tasks, so the task table, compare and clone work on them as on any run
// (ClearML keeps its optimizer and the trials it clones the same way).
//
// - The experiment: a task of type `optimizer`, tagged "experiment", with
//   the config as the user wrote it (configuration "experiment.yaml", the
//   --config overrides in "overrides") and, in its runtime, the queue, the
//   priority, the context archive's digest, the seed and the driver's state
//   (`search_state`, experiment/driver.h). Its status is the experiment's
//   state: running (active), paused, completed, aborted (canceled or
//   killed), failed.
// - A trial: a task of type `training`, child (`parent`) of the experiment,
//   with its sampled values in section `hparams` (nested names joined by
//   "."), and in its runtime everything an agent needs to run it without
//   reading the experiment: its number, the values as JSON, the target
//   (`until`), the searcher's unit, metric and max length, the entry point,
//   the environment variables, the context digest, restarts so far and
//   allowed, the latest checkpoint, and `stop` ("", "pause", "stop",
//   "cancel": what the trial is asked to do at its next checkpoint).
// - A clone trial (kind "clone_trial", ClearML's HyperParameterOptimizer):
//   a clone of the base task run as any task is, its values set in the
//   base's own sections; the searcher reads its scalar
//   (metric_title, metric_series).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/experiment/config.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::experiment {

inline constexpr const char* k_experiment_tag = "experiment";
inline constexpr const char* k_config_name = "experiment.yaml";
inline constexpr const char* k_overrides_name = "overrides";
// The scalar series a trial's searcher reports land in: title "searcher",
// series = the searcher metric, step = length trained (searcher units).
inline constexpr const char* k_searcher_title = "searcher";

struct NewExperiment {
  std::string config_text;
  std::string config_file = "experiment.yaml";  // names the text in messages
  std::vector<std::string> overrides;
  std::string project;      // empty: the config's, else "default"
  std::string queue;        // empty: resources.resource_pool, else "default"
  std::string context;      // the packed context's digest (already stored)
  bool paused = false;      // created paused: no trial runs until activated
  uint64_t drawn_seed = 0;  // used when the config sets no seed
  // ClearML's HyperParameterOptimizer: trials are clones of this task (its
  // code, environment, parameters) with the sampled values set, the
  // searcher metric is its scalar (objective_title, objective_series) by
  // iteration, and a stopped trial is aborted (it cannot checkpoint). The
  // config's entry point and context are then not used.
  std::string base_task;
  std::string objective_title, objective_series;
  // Test mode on the agents: one sampled trial to length 1 (a checkpoint
  // saved), queued again and resumed to length 2 from it (search/test_run.cpp).
  bool test = false;
};

// Checks the config (its errors name file, line and key), the queue and
// the context blob, then creates the experiment task (running, or paused).
Result<Task> create_experiment(MetadataStore& store, BlobStore& blobs, const NewExperiment& e);

// The experiment's config, parsed again from what create_experiment stored
// (a test-mode experiment's searcher is test_run, its max length 2).
Result<Config> experiment_config(const Task& experiment);

// Is this task an experiment / a trial of either kind / a trial run from
// the context with the trial protocol / a clone of a base task (by its runtime)?
bool is_experiment(const Task& t);
bool is_trial(const Task& t);
bool is_context_trial(const Task& t);
bool is_clone_trial(const Task& t);

// A clone trial's parameters: the base's, with each sampled value set (the
// first level of `hparams` is the section, the next the name; a value at
// the first level goes to section General).
std::vector<Hyperparameter> override_params(std::vector<Hyperparameter> base, const Json& hparams);

// Every trial task of the experiment (summaries, runtime included), by trial number.
Result<std::vector<Task>> trial_tasks(MetadataStore& store, const std::string& experiment_id);

// The experiment tasks, newest first (of a project, when given).
Result<std::vector<Task>> experiment_tasks(MetadataStore& store, const std::string& project);

// Nested hparams as section `hparams` parameters, names joined by ".".
std::vector<Hyperparameter> flatten_hparams(const Json& hparams);

// Merges these keys into the task's runtime (one write).
Status set_runtime(MetadataStore& store, const std::string& task_id,
                   std::map<std::string, std::string> values);

// A runtime value as text ("" when absent) / as a number (0 when absent or not a number).
std::string runtime_text(const Task& t, const std::string& key);
int64_t runtime_int(const Task& t, const std::string& key);

}  // namespace rh::experiment

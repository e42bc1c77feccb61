// Pipeline runs recorded as tasks (`rh repro` with RH_SERVER set): the run
// is a task of type controller named after the pipeline file (configuration
// "dag": every stage and the stages it comes after), and each stage
// whose commands ran is a child task (`parent` = the run) named after the
// stage, of type data_processing, holding
// - the code: the repository's commit and uncommitted diff (captured once
//   per run), the stage's command as entry point, its wdir;
// - hyperparameters: the stage's params as the lock records them, section =
//   the params file, names flattened with '.' ("train.lr");
// - a configuration "deps": each dep's path and content hash, as locked;
// - the console: each command line ("> cmd") and everything it wrote;
// - scalars: each number (and boolean, as 0/1) of the stage's metric files,
//   title = the file, series = the flattened key, iteration 0;
// - runtime: stage, pipeline, wall_time_s; and its end as completed/failed.
// The project is the repository folder's name unless given. Recording never
// fails the pipeline: the first problem is printed once, the stages go on.
//
// Adopting a task (`rh stage exec` on an agent, whose task the submitter
// made and whose console and end the agent records): the one stage that
// runs adds its params, deps and metrics to that task; no task is created.
#pragma once

#include <memory>
#include <string>

#include "roundhouse/pipeline/repro.h"

namespace rh {
class MetadataStore;
class Env;
}  // namespace rh

namespace rh::cli {

class StageTasks : public pipeline::StageObserver {
 public:
  StageTasks(MetadataStore& store, Env& env, const pipeline::Project& p, std::string project,
             std::string adopt_task = "");
  ~StageTasks() override;

  void started(const pipeline::Stage& s, const pipeline::StageStatus& why) override;
  void output(const pipeline::Stage& s, const std::string& line) override;
  void finished(const pipeline::Stage& s, const Status& result,
                const pipeline::StageLock* entry) override;

  // Ends the run's task (completed when `ok`); nothing when no stage ran.
  void close(bool ok, const std::string& message);
  // The run's task ID; empty until a stage ran.
  std::string run_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace rh::cli

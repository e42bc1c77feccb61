// What an agent does differently for a trial of an experiment
// (experiment/records.h): the code is the experiment's context archive (not
// a git checkout), the command is the config's entry point, and the trial
// talks to the agent through the trial protocol (python/roundhouse/trial.py):
// the agent writes RH_TRIAL_DIR/trial.json (values, target, latest
// checkpoint), puts the latest checkpoint back under checkpoints/<id>/,
// follows reports.jsonl (metrics become scalars; searcher-metric points go
// to series "searcher"/<metric>; each saved checkpoint is uploaded and
// recorded before the next report is read), and writes RH_TRIAL_DIR/stop
// when the trial is asked to stop, pause or cancel. After the process ends,
// trial_outcome() says what the task becomes.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::agent {

struct TrialSetup {
  std::string root;       // removed after the run
  std::string run_dir;    // the unpacked context: where the entry point runs
  std::string trial_dir;  // RH_TRIAL_DIR
  std::vector<std::string> argv;
  std::vector<std::string> env;    // the config's environment_variables, "K=V"
  std::vector<std::string> notes;  // for the task's console
};

// Unpacks the context (fetched by digest), writes trial.json and restores
// the latest checkpoint. Errors say which part failed.
Result<TrialSetup> prepare_trial(const Task& t, MetadataStore& store, BlobStore& blobs,
                                 const std::string& workdir);

// Writes checkpoint `id` of the trial task into root (created), its
// manifest's paths checked before anything is written; returns the
// checkpoint's metadata (JSON text).
Result<std::string> fetch_checkpoint(MetadataStore& store, BlobStore& blobs,
                                     const std::string& task_id, const std::string& id,
                                     const std::string& root);

// Follows reports.jsonl on its own thread until finish().
class TrialPump {
 public:
  TrialPump(MetadataStore& store, BlobStore& blobs, const Task& t, std::string trial_dir,
            std::function<void(const std::string&)> note);
  ~TrialPump();
  TrialPump(const TrialPump&) = delete;
  TrialPump& operator=(const TrialPump&) = delete;
  // Reads what is left, uploads pending checkpoints, stops the thread.
  // Returns the first error that lost a report or a checkpoint.
  Status finish();
  // Writes the stop file (the trial sees should_stop() / should_preempt()).
  void request_stop();
  // A new target while the trial runs (a promotion): trial.json is rewritten
  // (atomically) and target() / the Core API's next operation see it.
  void update_target(int64_t until);
  uint64_t reached() const { return m_reached; }  // furthest searcher length reported
  bool invalid_hp() const { return m_invalid_hp; }

 private:
  void loop();
  Status drain();
  Status handle(const std::string& line);
  Status upload_checkpoint(const std::string& id, const std::string& metadata_json);

  MetadataStore& m_store;
  BlobStore& m_blobs;
  std::string m_task_id, m_metric, m_time_metric, m_dir;
  std::function<void(const std::string&)> m_note;
  uint64_t m_offset = 0;
  std::string m_partial;
  std::vector<ScalarSeries> m_batch;
  std::atomic<uint64_t> m_reached{0};
  std::atomic<bool> m_invalid_hp{false};
  std::atomic<bool> m_stop{false};
  std::atomic<int64_t> m_until{0};  // as trial.json has it
  std::mutex m_mu;                  // one drain at a time
  Status m_error;
  std::thread m_thread;
};

struct TrialOutcome {
  TaskStatus status = TaskStatus::completed;
  std::string message;
  std::map<std::string, std::string> runtime;  // e.g. restarts
};

// What the trial task becomes once its process ended: `now` is the task as
// the store has it after the run (its stop request and target as last set),
// started_until its target when the process started, exit_code the
// process's, agent_stopping when the agent itself is going away.
TrialOutcome trial_outcome(const Task& now, uint64_t started_until, int exit_code,
                           bool agent_stopping, uint64_t reached, bool invalid_hp);

}  // namespace rh::agent

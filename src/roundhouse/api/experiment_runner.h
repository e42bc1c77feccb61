// ExperimentRunner: the server's thread that moves experiments on
// (experiment/driver.h). It steps every running or paused experiment when
// any task changes and at least once a second (task_watch.h), lets higher-priority work preempt
// trials (experiment/preempt.h), and tells the hub what it wrote so pages and agents waiting on
// those tasks wake up. User actions on an experiment (pause, activate, cancel, kill) run through
// exclusive() so they never interleave with a step.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "roundhouse/api/change_hub.h"
#include "roundhouse/api/task_watch.h"
#include "roundhouse/experiment/driver.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::api {

class ExperimentRunner {
 public:
  ExperimentRunner(MetadataStore& store, ChangeHub& hub);
  ~ExperimentRunner();  // stop()
  ExperimentRunner(const ExperimentRunner&) = delete;
  ExperimentRunner& operator=(const ExperimentRunner&) = delete;
  // Ends the thread (waits for a step in progress); safe to call again.
  void stop();
  // Runs fn with no step in progress; fn gets the notifier to pass on.
  Status exclusive(const std::function<Status(const experiment::Notify&)>& fn);
  // Asks for a step soon (after a write the hub does not see).
  void poke();

 private:
  void step_all();
  MetadataStore& m_store;
  experiment::Notify m_notify;
  std::mutex m_step_mu;                             // held during a step and an exclusive()
  std::map<std::string, std::string> m_last_error;  // experiment -> message, said once
  TaskWatch m_watch;  // last: its thread starts when everything above exists
};

}  // namespace rh::api

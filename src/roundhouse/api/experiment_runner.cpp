#include "roundhouse/api/experiment_runner.h"

#include <cstdio>

#include "roundhouse/experiment/preempt.h"
#include "roundhouse/experiment/records.h"

namespace rh::api {

ExperimentRunner::ExperimentRunner(MetadataStore& store, ChangeHub& hub)
    : m_store(store), m_notify(task_notifier(hub)), m_watch(hub, [this] { step_all(); }) {}

ExperimentRunner::~ExperimentRunner() {
  stop();
}

void ExperimentRunner::stop() {
  m_watch.stop();
}

void ExperimentRunner::poke() {
  m_watch.poke();
}

Status ExperimentRunner::exclusive(const std::function<Status(const experiment::Notify&)>& fn) {
  Status st;
  {
    std::lock_guard lk(m_step_mu);
    st = fn(m_notify);
  }
  poke();
  return st;
}

void ExperimentRunner::step_all() {
  std::lock_guard lk(m_step_mu);
  auto list = experiment::experiment_tasks(m_store, "");
  if (!list)
    return;
  for (const auto& e : *list) {
    if (e.status != TaskStatus::running && e.status != TaskStatus::paused &&
        experiment::runtime_text(e, "checkpoints_collected") == "1")
      continue;  // ended, its checkpoints collected
    std::string msg;
    try {
      auto r = experiment::step_experiment(m_store, e.id, m_notify);
      msg = r ? "" : r.error().message;
    } catch (const std::exception& ex) {  // a bug must not take the server down
      msg = std::string("step failed: ") + ex.what();
    }
    if (!msg.empty() && m_last_error[e.id] != msg)
      std::fprintf(stderr, "rh server: experiment %s: %s\n", e.id.c_str(), msg.c_str());
    m_last_error[e.id] = msg;
  }
  try {
    (void)experiment::preempt_for_priority(m_store, m_notify);
  } catch (const std::exception&) {
  }
}

}  // namespace rh::api

#include "roundhouse/api/experiment_runner.h"

#include <cstdio>

#include "roundhouse/experiment/preempt.h"
#include "roundhouse/experiment/records.h"

namespace rh::api {

ExperimentRunner::ExperimentRunner(MetadataStore& store, ChangeHub& hub)
    : m_store(store), m_hub(hub) {
  m_notify = [this](const std::string& task_id, bool enqueued) {
    m_hub.bump("task:" + task_id);
    m_hub.bump("tasks");
    if (enqueued)
      m_hub.bump("queues");
  };
  m_thread = std::thread([this] { loop(); });
}

ExperimentRunner::~ExperimentRunner() {
  stop();
}

void ExperimentRunner::stop() {
  {
    std::lock_guard lk(m_wake->mu);
    m_wake->stop = true;
  }
  m_wake->cv.notify_all();
  if (m_thread.joinable())
    m_thread.join();
}

void ExperimentRunner::Wake::poke() {
  {
    std::lock_guard lk(mu);
    poked = true;
  }
  cv.notify_all();
}

void ExperimentRunner::poke() {
  m_wake->poke();
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

void ExperimentRunner::loop() {
  for (;;) {
    uint64_t seen = m_hub.version("tasks");
    {
      std::unique_lock lk(m_wake->mu);
      m_wake->cv.wait_for(lk, std::chrono::seconds(1),
                          [&] { return m_wake->stop || m_wake->poked; });
      if (m_wake->stop)
        return;
      m_wake->poked = false;
    }
    step_all();
    // Wake on the next change to any task (or after a second).
    if (m_hub.version("tasks") != seen)
      poke();
    else
      m_hub.wait("tasks", seen, std::chrono::milliseconds(1000),
                 [wake = m_wake](uint64_t) { wake->poke(); });
    // A burst of writes (a trial reporting fast) costs at most 50 steps a second.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace rh::api

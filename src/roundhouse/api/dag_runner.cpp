#include "roundhouse/api/dag_runner.h"

#include <chrono>
#include <cstdio>

namespace rh::api {

DagRunner::DagRunner(MetadataStore& store, ChangeHub& hub)
    : m_store(store), m_notify(task_notifier(hub)), m_watch(hub, [this] { step_all(); }) {}

DagRunner::~DagRunner() {
  stop();
}

void DagRunner::stop() {
  m_watch.stop();
}

void DagRunner::step_all() {
  auto runs = flow::running_dag_runs(m_store);
  if (!runs)
    return;
  for (const auto& run : *runs) {
    std::string msg;
    try {
      double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      auto r = flow::step_dag_run(m_store, run, m_notify, now);
      msg = r ? "" : r.error().message;
    } catch (const std::exception& ex) {  // a bug must not take the server down
      msg = std::string("step failed: ") + ex.what();
    }
    if (!msg.empty() && m_last_error[run.id] != msg)
      std::fprintf(stderr, "rh server: pipeline run %s: %s\n", run.id.c_str(), msg.c_str());
    m_last_error[run.id] = msg;
  }
}

}  // namespace rh::api

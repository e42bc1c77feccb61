// DagRunner: the server's thread that moves task DAGs on (flow/task_dag.h:
// `rh repro --queue` pipelines), stepping every running DAG run when any
// task changes and at least once a second (task_watch.h), and telling the
// hub what it wrote so agents waiting on a queue and open pages wake up.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "roundhouse/api/change_hub.h"
#include "roundhouse/api/task_watch.h"
#include "roundhouse/flow/task_dag.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::api {

class DagRunner {
 public:
  DagRunner(MetadataStore& store, ChangeHub& hub);
  ~DagRunner();  // stop()
  DagRunner(const DagRunner&) = delete;
  DagRunner& operator=(const DagRunner&) = delete;
  void stop();

 private:
  void step_all();
  MetadataStore& m_store;
  flow::Notify m_notify;
  std::map<std::string, std::string> m_last_error;  // run -> message, said once
  TaskWatch m_watch;  // last: its thread starts when everything above exists
};

}  // namespace rh::api

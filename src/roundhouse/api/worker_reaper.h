// WorkerReaper: agents silent for longer than a timeout lose their running
// task (failed or requeued, as its queue says; QueueStore::reap_workers),
// checked every second on its own thread; `lost` hears of each such task.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "roundhouse/store/metadata_store.h"

namespace rh::api {

class WorkerReaper {
 public:
  // timeout_s <= 0: no thread, nothing reaped. now: the store's clock.
  WorkerReaper(QueueStore& queues, double timeout_s, std::function<double()> now,
               std::function<void(const LostTask&)> lost);
  ~WorkerReaper();  // stop()
  WorkerReaper(const WorkerReaper&) = delete;
  WorkerReaper& operator=(const WorkerReaper&) = delete;
  // Ends the thread (waits for a round in progress); safe to call again.
  void stop();

 private:
  void loop();
  QueueStore& m_queues;
  double m_timeout_s;
  std::function<double()> m_now;
  std::function<void(const LostTask&)> m_lost;
  std::mutex m_mu;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::thread m_thread;
};

}  // namespace rh::api

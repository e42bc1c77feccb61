// TaskWatch: a server thread that calls `step` whenever any task changes
// (woken through the change hub's "tasks" key), when poked, and at least
// once a second; a burst of changes costs at most 50 steps a second. What
// the experiment runner and the DAG runner share.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "roundhouse/api/change_hub.h"

namespace rh::api {

// What the runners tell the hub after writing a task: its own key and
// "tasks" (and "queues" when it was enqueued), so pages, long-polls and
// agents waiting on them wake up.
std::function<void(const std::string& task_id, bool enqueued)> task_notifier(ChangeHub& hub);

class TaskWatch {
 public:
  TaskWatch(ChangeHub& hub, std::function<void()> step);
  ~TaskWatch();  // stop()
  TaskWatch(const TaskWatch&) = delete;
  TaskWatch& operator=(const TaskWatch&) = delete;
  // Asks for a step soon.
  void poke();
  // Ends the thread (waits for a step in progress); safe to call again.
  void stop();

 private:
  void loop();
  ChangeHub& m_hub;
  std::function<void()> m_step;
  // Shared with the hub's waiters, which may answer after this object is gone.
  struct Wake {
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    bool poked = true;
    void poke();
  };
  std::shared_ptr<Wake> m_wake = std::make_shared<Wake>();
  std::thread m_thread;
};

}  // namespace rh::api

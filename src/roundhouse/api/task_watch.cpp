#include "roundhouse/api/task_watch.h"

namespace rh::api {

std::function<void(const std::string&, bool)> task_notifier(ChangeHub& hub) {
  return [&hub](const std::string& task_id, bool enqueued) {
    hub.bump("task:" + task_id);
    hub.bump("tasks");
    if (enqueued)
      hub.bump("queues");
  };
}

TaskWatch::TaskWatch(ChangeHub& hub, std::function<void()> step)
    : m_hub(hub), m_step(std::move(step)) {
  m_thread = std::thread([this] { loop(); });
}

TaskWatch::~TaskWatch() {
  stop();
}

void TaskWatch::stop() {
  {
    std::lock_guard lk(m_wake->mu);
    m_wake->stop = true;
  }
  m_wake->cv.notify_all();
  if (m_thread.joinable())
    m_thread.join();
}

void TaskWatch::Wake::poke() {
  {
    std::lock_guard lk(mu);
    poked = true;
  }
  cv.notify_all();
}

void TaskWatch::poke() {
  m_wake->poke();
}

void TaskWatch::loop() {
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
    m_step();
    // Wake on the next change to any task (or after a second).
    if (m_hub.version("tasks") != seen)
      poke();
    else
      m_hub.wait("tasks", seen, std::chrono::milliseconds(1000),
                 [wake = m_wake](uint64_t) { wake->poke(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace rh::api

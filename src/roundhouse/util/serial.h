// Serial: one thread that runs posted jobs in order. The API uses it for the
// agents' take attempts after a wake-up, so neither the thread that enqueued
// nor the timer thread waits on them. Jobs still queued when it is destroyed
// are dropped; the one running is finished first.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace rh {

class Serial {
 public:
  Serial();
  ~Serial();
  Serial(const Serial&) = delete;
  Serial& operator=(const Serial&) = delete;
  void post(std::function<void()> fn);

 private:
  void loop();
  std::mutex m_mu;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_jobs;
  bool m_stop = false;
  std::thread m_thread;
};

}  // namespace rh

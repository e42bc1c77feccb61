#include "roundhouse/api/worker_reaper.h"

namespace rh::api {

WorkerReaper::WorkerReaper(QueueStore& queues, double timeout_s, std::function<double()> now,
                           std::function<void(const LostTask&)> lost)
    : m_queues(queues), m_timeout_s(timeout_s), m_now(std::move(now)), m_lost(std::move(lost)) {
  if (m_timeout_s > 0)
    m_thread = std::thread([this] { loop(); });
}

WorkerReaper::~WorkerReaper() {
  stop();
}

void WorkerReaper::stop() {
  {
    std::lock_guard lk(m_mu);
    m_stop = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable())
    m_thread.join();
}

void WorkerReaper::loop() {
  std::unique_lock lk(m_mu);
  while (!m_cv.wait_for(lk, std::chrono::seconds(1), [&] { return m_stop; })) {
    lk.unlock();
    auto lost = m_queues.reap_workers(m_now() - m_timeout_s);
    if (lost) {
      for (const auto& l : *lost)
        m_lost(l);
    }
    lk.lock();
  }
}

}  // namespace rh::api

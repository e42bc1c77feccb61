#include "roundhouse/util/serial.h"

namespace rh {

Serial::Serial() : m_thread([this] { loop(); }) {}

Serial::~Serial() {
  {
    std::lock_guard lk(m_mu);
    m_stop = true;
  }
  m_cv.notify_all();
  m_thread.join();
}

void Serial::post(std::function<void()> fn) {
  {
    std::lock_guard lk(m_mu);
    m_jobs.push_back(std::move(fn));
  }
  m_cv.notify_one();
}

void Serial::loop() {
  std::unique_lock lk(m_mu);
  while (true) {
    m_cv.wait(lk, [&] { return m_stop || !m_jobs.empty(); });
    if (m_stop)
      return;
    auto fn = std::move(m_jobs.front());
    m_jobs.pop_front();
    lk.unlock();
    fn();
    lk.lock();
  }
}

}  // namespace rh

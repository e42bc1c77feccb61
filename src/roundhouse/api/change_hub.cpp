#include "roundhouse/api/change_hub.h"

#include <vector>

namespace rh::api {

ChangeHub::ChangeHub() : m_timer([this] { timer_loop(); }) {}

ChangeHub::~ChangeHub() {
  shutdown();
  {
    std::lock_guard lk(m_mu);
    m_stopping = true;
  }
  m_cv.notify_all();
  m_timer.join();
}

void ChangeHub::bump(const std::string& key) {
  std::vector<std::pair<Done, uint64_t>> wake;
  {
    std::lock_guard lk(m_mu);
    uint64_t v = ++m_clock;
    m_versions[key] = v;
    auto [b, e] = m_by_key.equal_range(key);
    for (auto it = b; it != e; ++it) {
      auto w = m_waiters.find(it->second);
      m_deadlines.erase(w->second.deadline);
      wake.emplace_back(std::move(w->second.done), v);
      m_waiters.erase(w);
    }
    m_by_key.erase(b, e);
  }
  for (auto& [done, v] : wake)
    done(v);
}

uint64_t ChangeHub::version(const std::string& key) const {
  std::lock_guard lk(m_mu);
  auto it = m_versions.find(key);
  return it == m_versions.end() ? 0 : it->second;
}

void ChangeHub::wait(const std::string& key, uint64_t since, std::chrono::milliseconds timeout,
                     Done done) {
  uint64_t now_version = 0;
  {
    std::lock_guard lk(m_mu);
    auto it = m_versions.find(key);
    now_version = it == m_versions.end() ? 0 : it->second;
    if (now_version == since && !m_stopping && timeout.count() > 0) {
      uint64_t id = ++m_next_waiter;
      auto deadline = m_deadlines.emplace(std::chrono::steady_clock::now() + timeout, id);
      m_waiters.emplace(id, Waiter{key, std::move(done), deadline});
      m_by_key.emplace(key, id);
      bool earliest = deadline == m_deadlines.begin();
      if (earliest)
        m_cv.notify_all();
      return;
    }
  }
  done(now_version);
}

void ChangeHub::shutdown() {
  std::vector<std::pair<Done, uint64_t>> wake;
  {
    std::lock_guard lk(m_mu);
    m_stopping = true;
    for (auto& [id, w] : m_waiters) {
      auto v = m_versions.find(w.key);
      wake.emplace_back(std::move(w.done), v == m_versions.end() ? 0 : v->second);
    }
    m_waiters.clear();
    m_by_key.clear();
    m_deadlines.clear();
  }
  m_cv.notify_all();
  for (auto& [done, v] : wake)
    done(v);
}

bool ChangeHub::stopping() const {
  std::lock_guard lk(m_mu);
  return m_stopping;
}

size_t ChangeHub::waiting() const {
  std::lock_guard lk(m_mu);
  return m_waiters.size();
}

void ChangeHub::timer_loop() {
  std::unique_lock lk(m_mu);
  while (true) {
    if (m_stopping && m_waiters.empty())
      return;
    if (m_deadlines.empty()) {
      m_cv.wait(lk);
      continue;
    }
    auto first = m_deadlines.begin()->first;
    if (std::chrono::steady_clock::now() < first) {
      m_cv.wait_until(lk, first);
      continue;
    }
    std::vector<std::pair<Done, uint64_t>> wake;
    auto now = std::chrono::steady_clock::now();
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
      uint64_t id = m_deadlines.begin()->second;
      m_deadlines.erase(m_deadlines.begin());
      auto w = m_waiters.find(id);
      auto [b, e] = m_by_key.equal_range(w->second.key);
      for (auto it = b; it != e; ++it) {
        if (it->second == id) {
          m_by_key.erase(it);
          break;
        }
      }
      auto v = m_versions.find(w->second.key);
      wake.emplace_back(std::move(w->second.done), v == m_versions.end() ? 0 : v->second);
      m_waiters.erase(w);
    }
    lk.unlock();
    for (auto& [done, v] : wake)
      done(v);
    lk.lock();
  }
}

}  // namespace rh::api

// ChangeHub: "tell me when this changes" for live pages and long-polls.
//
// A key ("task:<id>", "tasks") has a version that bump() moves on. wait()
// answers once: at once when the key's version differs from `since` (so a
// client that saw a version before a server restart still catches up), at
// the next bump, or when the timeout passes. A waiter costs a map entry, not
// a thread: one timer thread serves every timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace rh::api {

class ChangeHub {
 public:
  using Done = std::function<void(uint64_t version)>;

  ChangeHub();
  ~ChangeHub();
  ChangeHub(const ChangeHub&) = delete;
  ChangeHub& operator=(const ChangeHub&) = delete;

  void bump(const std::string& key);
  uint64_t version(const std::string& key) const;
  void wait(const std::string& key, uint64_t since, std::chrono::milliseconds timeout, Done done);
  // Answers every waiter now with its key's current version; later waits answer at once.
  void shutdown();
  size_t waiting() const;
  bool stopping() const;

 private:
  struct Waiter {
    std::string key;
    Done done;
    std::multimap<std::chrono::steady_clock::time_point, uint64_t>::iterator deadline;
  };
  void timer_loop();

  mutable std::mutex m_mu;
  std::condition_variable m_cv;
  uint64_t m_clock = 0;  // last version handed out
  uint64_t m_next_waiter = 0;
  bool m_stopping = false;
  std::unordered_map<std::string, uint64_t> m_versions;
  std::unordered_multimap<std::string, uint64_t> m_by_key;  // key -> waiter id
  std::map<uint64_t, Waiter> m_waiters;
  std::multimap<std::chrono::steady_clock::time_point, uint64_t> m_deadlines;
  std::thread m_timer;
};

}  // namespace rh::api

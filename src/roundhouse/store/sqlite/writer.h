// GroupCommitWriter: the one thread that writes to a SQLite database.
//
// Callers hand it a function; the thread drains everything queued, runs each
// function inside its own SAVEPOINT of one shared transaction, commits once
// (synchronous=FULL: one fsync for the whole group) and only then answers
// every caller. A function that fails is rolled back alone; the others still
// commit. run() is thread-safe and blocks until the caller's write is durable
// (or failed).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "roundhouse/store/sqlite/db.h"

namespace rh::sqlite {

class GroupCommitWriter {
 public:
  explicit GroupCommitWriter(std::unique_ptr<Db> db);
  ~GroupCommitWriter();

  Status run(std::function<Status(Db&)> fn);
  // Finishes queued work and stops the thread; later run() calls fail with unavailable.
  void stop();

 private:
  struct Job;
  void loop();
  void commit_group(std::deque<Job*>& group);

  std::unique_ptr<Db> m_db;
  std::mutex m_mu;
  std::condition_variable m_cv;
  std::deque<Job*> m_queue;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace rh::sqlite

#include "roundhouse/store/sqlite/writer.h"

#include <future>

namespace rh::sqlite {

struct GroupCommitWriter::Job {
  std::function<Status(Db&)> fn;
  std::promise<Status> done;
  Status result;
};

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<Db> db) : m_db(std::move(db)) {
  m_thread = std::thread([this] { loop(); });
}

GroupCommitWriter::~GroupCommitWriter() {
  stop();
}

void GroupCommitWriter::stop() {
  {
    std::lock_guard lock(m_mu);
    if (m_stopping && !m_thread.joinable())
      return;
    m_stopping = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable())
    m_thread.join();
}

Status GroupCommitWriter::run(std::function<Status(Db&)> fn) {
  Job job;
  job.fn = std::move(fn);
  auto fut = job.done.get_future();
  {
    std::lock_guard lock(m_mu);
    if (m_stopping)
      return make_error(ErrorCode::unavailable, "the store is closing");
    m_queue.push_back(&job);
  }
  m_cv.notify_one();
  return fut.get();
}

void GroupCommitWriter::loop() {
  while (true) {
    std::deque<Job*> group;
    {
      std::unique_lock lock(m_mu);
      m_cv.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty())
        return;  // stopping and drained
      group.swap(m_queue);
    }
    commit_group(group);
  }
}

void GroupCommitWriter::commit_group(std::deque<Job*>& group) {
  Status begin = m_db->exec("BEGIN IMMEDIATE");
  if (!begin) {
    for (Job* j : group)
      j->done.set_value(begin);
    return;
  }
  for (Job* j : group) {
    Status sp = m_db->exec("SAVEPOINT job");
    if (!sp) {
      j->result = sp;
      continue;
    }
    try {
      j->result = j->fn(*m_db);
    } catch (const std::exception& e) {
      j->result = make_error(ErrorCode::internal, std::string("write failed: ") + e.what());
    }
    m_db->reset_cached();
    if (!j->result)
      (void)m_db->exec("ROLLBACK TO job");
    (void)m_db->exec("RELEASE job");
  }
  Status commit = m_db->exec("COMMIT");
  if (!commit) {
    (void)m_db->exec("ROLLBACK");
    commit.error().code = ErrorCode::io;
  }
  for (Job* j : group)
    j->done.set_value(commit ? j->result : commit);
}

}  // namespace rh::sqlite

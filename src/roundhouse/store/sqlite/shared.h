// What the SQLite parts share: the writer, the reader pool, the Env.
// Internal to store/sqlite.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "roundhouse/env/env.h"
#include "roundhouse/store/sqlite/db.h"
#include "roundhouse/store/sqlite/writer.h"

namespace rh::sqlite {

class ReaderPool {
 public:
  ReaderPool(std::string path) : m_path(std::move(path)) {}
  // A connection for the calling thread's read; returned on destruction.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Db> db) : m_pool(pool), m_db(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Db& operator*() { return *m_db; }
    Db* operator->() { return m_db.get(); }

   private:
    ReaderPool* m_pool;
    std::unique_ptr<Db> m_db;
  };
  Result<Lease> acquire();
  void clear();

 private:
  std::string m_path;
  std::mutex m_mu;
  std::vector<std::unique_ptr<Db>> m_idle;
};

struct Shared {
  Env& env;
  std::unique_ptr<GroupCommitWriter> writer;
  ReaderPool readers;
  // Series that received a small chunk since the last compaction.
  std::mutex small_mu;
  std::set<int64_t> small_series;
};

// Inside a write: whether request_key was already applied to the task (its
// stored result in *result); an empty key is never seen. A key used for
// another task is invalid_argument.
Result<bool> request_key_seen(Db& db, const std::string& task_id, const std::string& key,
                              int64_t* result);
// Inside a write: remembers an applied key.
Status remember_request_key(Db& db, Env& env, const std::string& task_id, const std::string& key,
                            int64_t result);

// Drops request keys older than a day (one write; run by the maintenance thread).
Status expire_request_keys(Shared& s);

// Error for an unknown task ID.
Error task_not_found(const std::string& id);
// The task's status, or not_found: on the writer inside a write, or on a
// reader connection (its cached statement is reset when the lease ends).
Result<std::string> task_status(Db& db, const std::string& id);

}  // namespace rh::sqlite

// What the SQLite parts share: the writer, the reader pool, the Env.
// Internal to store/sqlite.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
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
};

// Error for an unknown task ID.
Error task_not_found(const std::string& id);
// Checks, inside a write, that the task exists; returns its status.
Result<std::string> task_status_in_tx(Db& db, const std::string& id);

}  // namespace rh::sqlite

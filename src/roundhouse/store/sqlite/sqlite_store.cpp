#include "roundhouse/store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <atomic>

#include "roundhouse/store/sqlite/migrations.h"
#include "roundhouse/store/sqlite/parts.h"
#include "roundhouse/store/sqlite/shared.h"

namespace rh {
namespace sqlite {

ReaderPool::Lease::~Lease() {
  if (!m_db)
    return;
  m_db->reset_cached();
  std::lock_guard lock(m_pool->m_mu);
  m_pool->m_idle.push_back(std::move(m_db));
}

Result<ReaderPool::Lease> ReaderPool::acquire() {
  {
    std::lock_guard lock(m_mu);
    if (!m_idle.empty()) {
      auto db = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(this, std::move(db));
    }
  }
  RH_TRY_ASSIGN(auto db, Db::open(m_path, false));
  RH_TRY(db->exec("PRAGMA query_only=1"));
  return Lease(this, std::move(db));
}

void ReaderPool::clear() {
  std::lock_guard lock(m_mu);
  m_idle.clear();
}

Result<bool> request_key_seen(Db& db, const std::string& task_id, const std::string& key,
                              int64_t* result) {
  if (key.empty())
    return false;
  RH_TRY_ASSIGN(Stmt * s, db.cached("SELECT task_id, result FROM request_keys WHERE key = ?"));
  s->bind(1, key);
  RH_TRY_ASSIGN(bool row, s->step());
  if (!row)
    return false;
  if (s->text(0) != task_id) {
    return make_error(ErrorCode::invalid_argument,
                      "request key " + key + " was already used for another task");
  }
  if (result)
    *result = s->int64(1);
  return true;
}

Status remember_request_key(Db& db, Env& env, const std::string& task_id, const std::string& key,
                            int64_t result) {
  if (key.empty())
    return {};
  double now = env.now();
  RH_TRY_ASSIGN(Stmt * ins, db.cached("INSERT INTO request_keys(key, task_id, result, created) "
                                      "VALUES(?,?,?,?)"));
  return ins->bind(1, key).bind(2, task_id).bind(3, result).bind(4, now).exec();
}

Status expire_request_keys(Shared& s) {
  double cutoff = s.env.now() - 86400.0;
  return s.writer->run([&](Db& db) -> Status {
    RH_TRY_ASSIGN(Stmt * old, db.cached("DELETE FROM request_keys WHERE created < ?"));
    return old->bind(1, cutoff).exec();
  });
}

Error task_not_found(const std::string& id) {
  return Error{ErrorCode::not_found, "no task with ID " + id};
}

Result<std::string> task_status(Db& db, const std::string& id) {
  RH_TRY_ASSIGN(Stmt * s, db.cached("SELECT status FROM tasks WHERE id = ?"));
  s->bind(1, id);
  RH_TRY_ASSIGN(bool row, s->step());
  if (!row)
    return std::unexpected(task_not_found(id));
  return s->text(0);
}

namespace {

// Background upkeep: moves WAL pages into the database on its own
// connection twice a second (so the writer never pays for a checkpoint inside
// a commit), every two seconds merges small scalar chunks, and every minute
// drops request keys older than a day (kept off the append path).
class Maintenance {
 public:
  Maintenance(std::unique_ptr<Db> db, Shared& shared) : m_db(std::move(db)), m_shared(shared) {
    m_thread = std::thread([this] { loop(); });
  }
  ~Maintenance() { stop(); }
  void stop() {
    {
      std::lock_guard lock(m_mu);
      m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
      m_thread.join();
  }

 private:
  void loop() {
    std::unique_lock lock(m_mu);
    while (!m_stop) {
      m_cv.wait_for(lock, std::chrono::milliseconds(500));
      if (m_stop)
        break;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(m_db->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      ++m_ticks;
      if (m_ticks % 4 == 0) {
        // A failure leaves the chunks as they were; reads do not depend on it.
        (void)compact_small_chunks(m_shared);
      }
      if (m_ticks % 120 == 0) {
        (void)expire_request_keys(m_shared);  // retried a minute later if it fails
      }
      lock.lock();
    }
  }
  std::unique_ptr<Db> m_db;
  Shared& m_shared;
  uint64_t m_ticks = 0;
  std::mutex m_mu;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::thread m_thread;
};

class SqliteStore final : public MetadataStore {
 public:
  SqliteStore(std::unique_ptr<Shared> shared, std::unique_ptr<Db> maintenance_db, std::string path)
      : m_shared(std::move(shared)),
        m_maintenance(std::make_unique<Maintenance>(std::move(maintenance_db), *m_shared)),
        m_path(std::move(path)),
        m_projects(make_project_part(*m_shared)),
        m_tasks(make_task_part(*m_shared)),
        m_scalars(make_scalar_part(*m_shared)),
        m_console(make_console_part(*m_shared)),
        m_artifacts(make_artifact_part(*m_shared)),
        m_plots(make_plot_part(*m_shared)),
        m_queues(make_queue_part(*m_shared, *m_tasks)),
        m_datasets(make_dataset_part(*m_shared)),
        m_blob_orphans(make_blob_orphans_part(*m_shared)),
        m_blob_aliases(make_blob_aliases_part(*m_shared)) {}
  ~SqliteStore() override { close(); }

  ProjectStore& projects() override { return *m_projects; }
  TaskStore& tasks() override { return *m_tasks; }
  ScalarStore& scalars() override { return *m_scalars; }
  ConsoleStore& console() override { return *m_console; }
  ArtifactStore& artifacts() override { return *m_artifacts; }
  PlotStore& plots() override { return *m_plots; }
  QueueStore& queues() override { return *m_queues; }
  DatasetStore& datasets() override { return *m_datasets; }
  BlobOrphans& blob_orphans() override { return *m_blob_orphans; }
  BlobAliases& blob_aliases() override { return *m_blob_aliases; }
  Status compact() { return compact_small_chunks(*m_shared); }

  void close() override {
    if (m_closed.exchange(true))
      return;
    m_maintenance->stop();
    m_shared->writer->stop();
    m_shared->readers.clear();
    // Fold the WAL back into the database so the folder is tidy when idle.
    if (auto db = Db::open(m_path, false)) {
      sqlite3_wal_checkpoint_v2((*db)->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                nullptr);
    }
  }

 private:
  std::unique_ptr<Shared> m_shared;
  std::unique_ptr<Maintenance> m_maintenance;
  std::string m_path;
  std::unique_ptr<ProjectStore> m_projects;
  std::unique_ptr<TaskStore> m_tasks;
  std::unique_ptr<ScalarStore> m_scalars;
  std::unique_ptr<ConsoleStore> m_console;
  std::unique_ptr<ArtifactStore> m_artifacts;
  std::unique_ptr<PlotStore> m_plots;
  std::unique_ptr<QueueStore> m_queues;
  std::unique_ptr<DatasetStore> m_datasets;
  std::unique_ptr<BlobOrphans> m_blob_orphans;
  std::unique_ptr<BlobAliases> m_blob_aliases;
  std::atomic<bool> m_closed{false};
};

}  // namespace
}  // namespace sqlite

Result<std::unique_ptr<MetadataStore>> open_sqlite_store(const std::string& path, Env& env) {
  using namespace sqlite;
  RH_TRY_ASSIGN(auto wdb, Db::open(path, true));
  RH_TRY(apply_migrations(*wdb));
  // Checkpoints happen on the maintenance connection, never in a commit.
  RH_TRY(wdb->exec("PRAGMA wal_autocheckpoint=0"));
  RH_TRY_ASSIGN(auto mdb, Db::open(path, false));
  auto shared = std::unique_ptr<Shared>(
      new Shared{env, std::make_unique<GroupCommitWriter>(std::move(wdb)), ReaderPool(path)});
  return std::unique_ptr<MetadataStore>(new SqliteStore(std::move(shared), std::move(mdb), path));
}

Status compact_scalar_chunks(MetadataStore& store) {
  auto* s = dynamic_cast<sqlite::SqliteStore*>(&store);
  if (!s) {
    return make_error(ErrorCode::invalid_argument, "not a SQLite store");
  }
  return s->compact();
}

}  // namespace rh

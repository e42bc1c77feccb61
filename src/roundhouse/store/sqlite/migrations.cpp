#include "roundhouse/store/sqlite/migrations.h"

#include <string>

namespace rh::sqlite {

namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released migration is never edited.
constexpr Migration k_migrations[] = {
    {1, R"sql(
CREATE TABLE projects(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created REAL NOT NULL
);
CREATE TABLE tasks(
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  parent TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]',
  created REAL NOT NULL,
  started REAL NOT NULL DEFAULT 0,
  completed REAL NOT NULL DEFAULT 0,
  last_update REAL NOT NULL,
  script TEXT NOT NULL DEFAULT '{}',
  environment TEXT NOT NULL DEFAULT '{}',
  runtime TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX tasks_created ON tasks(created, id);
CREATE INDEX tasks_project_created ON tasks(project_id, created, id);
CREATE INDEX tasks_status_created ON tasks(status, created, id);
CREATE INDEX tasks_parent ON tasks(parent);
CREATE TABLE task_tags(
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY(task_id, tag)
) WITHOUT ROWID;
CREATE INDEX task_tags_tag ON task_tags(tag, task_id);
CREATE TABLE hyperparameters(
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  section TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  type TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(task_id, section, name)
) WITHOUT ROWID;
CREATE TABLE configurations(
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(task_id, name)
) WITHOUT ROWID;
CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  series TEXT NOT NULL,
  UNIQUE(task_id, title, series)
);
-- One row per (series, write): the points column by column (store/scalar_chunk.h).
CREATE TABLE metric_chunk(
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  min_step INTEGER NOT NULL,
  max_step INTEGER NOT NULL,
  n INTEGER NOT NULL,
  data BLOB NOT NULL,
  summary BLOB NOT NULL
);
CREATE INDEX metric_chunk_series ON metric_chunk(series_id, id);
-- Last/min/max per series; NULL stands for NaN (SQLite stores NaN as NULL).
CREATE TABLE series_latest(
  series_id INTEGER PRIMARY KEY REFERENCES series(id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  title TEXT NOT NULL,
  series TEXT NOT NULL,
  count INTEGER NOT NULL,
  last_step INTEGER NOT NULL,
  last_value REAL,
  last_time REAL NOT NULL,
  min_value REAL,
  max_value REAL
);
CREATE INDEX series_latest_metric ON series_latest(title, series, last_value, task_id);
CREATE INDEX series_latest_task ON series_latest(task_id);
CREATE TABLE console(
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  time REAL NOT NULL,
  stream INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY(task_id, seq)
) WITHOUT ROWID;
CREATE TABLE artifacts(
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  type TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  metadata TEXT NOT NULL DEFAULT '{}',
  created REAL NOT NULL,
  PRIMARY KEY(task_id, name)
) WITHOUT ROWID;
CREATE TABLE models(
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  direction TEXT NOT NULL,
  digest TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0,
  framework TEXT NOT NULL DEFAULT '',
  metadata TEXT NOT NULL DEFAULT '{}',
  created REAL NOT NULL
);
CREATE INDEX models_task ON models(task_id);
)sql"},
    {2, R"sql(
-- Keys of applied appends (Idempotency-Key), so a retried batch is applied once.
CREATE TABLE request_keys(
  key TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  result INTEGER NOT NULL DEFAULT 0,
  created REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX request_keys_created ON request_keys(created);
CREATE INDEX request_keys_task ON request_keys(task_id);
)sql"},
    {3, R"sql(
-- Plots, tables and debug images (model/task.h, struct Plot).
CREATE TABLE plots(
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  series TEXT NOT NULL,
  iteration INTEGER NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL,
  digest TEXT NOT NULL DEFAULT '',
  created REAL NOT NULL
);
CREATE INDEX plots_task ON plots(task_id, id);
)sql"},
    {4, R"sql(
-- Execution queues, the tasks waiting in them, and the agents serving them.
CREATE TABLE queues(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created REAL NOT NULL,
  requeue_on_lost INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE queue_entries(
  task_id TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
  queue_id TEXT NOT NULL REFERENCES queues(id),
  priority INTEGER NOT NULL,
  enqueued REAL NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX queue_entries_order ON queue_entries(queue_id, priority DESC, enqueued, seq);
CREATE TABLE workers(
  name TEXT PRIMARY KEY,
  host TEXT NOT NULL DEFAULT '',
  queues TEXT NOT NULL DEFAULT '[]',
  gpus TEXT NOT NULL DEFAULT '',
  task_id TEXT NOT NULL DEFAULT '',
  registered REAL NOT NULL,
  last_heartbeat REAL NOT NULL
) WITHOUT ROWID;
)sql"},
    {5, R"sql(
-- Dataset versions and their files (the rows are the index; a final
-- version's manifest blob is the durable copy).
CREATE TABLE dataset_versions(
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  parents TEXT NOT NULL DEFAULT '[]',
  state TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  manifest TEXT NOT NULL DEFAULT '',
  task_id TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT '{}',
  created REAL NOT NULL,
  finalized REAL NOT NULL DEFAULT 0,
  UNIQUE(project, name, version)
);
CREATE INDEX dataset_versions_name ON dataset_versions(project, name, created);
CREATE TABLE dataset_parents(
  version_id TEXT NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  parent_id TEXT NOT NULL REFERENCES dataset_versions(id),
  position INTEGER NOT NULL,
  PRIMARY KEY(version_id, parent_id)
) WITHOUT ROWID;
CREATE INDEX dataset_parents_parent ON dataset_parents(parent_id);
CREATE TABLE dataset_files(
  version_id TEXT NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  PRIMARY KEY(version_id, path)
) WITHOUT ROWID;
)sql"},
    // Agents and Task.enqueue with no queue named use the `default` queue,
    // there from the start as in ClearML.
    {6, R"sql(
INSERT OR IGNORE INTO queues(id, name, created)
  VALUES(lower(hex(randomblob(16))), 'default', (julianday('now') - 2440587.5) * 86400.0);
)sql"},
    // What refers to a blob, so unreferenced ones can be removed: the blobs a
    // folder artifact's manifest names (a checkpoint's files), lookups by
    // digest on every table that holds one, and the blobs left without a
    // reference since a time (candidates; see ArtifactStore::orphans).
    {7, R"sql(
CREATE TABLE artifact_members(
  task_id TEXT NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY(task_id, name, digest),
  FOREIGN KEY(task_id, name) REFERENCES artifacts(task_id, name) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX artifact_members_digest ON artifact_members(digest);
CREATE INDEX artifacts_digest ON artifacts(digest);
CREATE INDEX models_digest ON models(digest);
CREATE INDEX plots_digest ON plots(digest);
CREATE INDEX dataset_files_digest ON dataset_files(digest);
CREATE TABLE blob_orphans(
  digest TEXT PRIMARY KEY,
  since REAL NOT NULL
) WITHOUT ROWID;
)sql"},
    // Other names of blobs: DVC's md5 names, for pipelines pushed to a
    // server (BlobAliases). An alias refers to its blob.
    {8, R"sql(
CREATE TABLE blob_aliases(
  md5 TEXT PRIMARY KEY,
  digest TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX blob_aliases_digest ON blob_aliases(digest);
)sql"},
};

}  // namespace

int latest_schema_version() {
  return k_migrations[std::size(k_migrations) - 1].version;
}

Status apply_migrations(Db& db) {
  RH_TRY(db.exec("BEGIN IMMEDIATE"));
  auto fail = [&](Error e) -> Status {
    (void)db.exec("ROLLBACK");
    return std::unexpected(std::move(e));
  };
  auto stmt = db.prepare("PRAGMA user_version");
  if (!stmt)
    return fail(stmt.error());
  auto row = stmt->step();
  if (!row)
    return fail(row.error());
  int current = static_cast<int>(stmt->int64(0));
  stmt = Stmt();
  if (current > latest_schema_version()) {
    return fail(
        Error{ErrorCode::conflict, "the database has schema version " + std::to_string(current) +
                                       ", newer than this rh understands (" +
                                       std::to_string(latest_schema_version()) + "); upgrade rh"});
  }
  for (const auto& m : k_migrations) {
    if (m.version <= current)
      continue;
    if (auto st = db.exec(m.sql); !st) {
      auto e = st.error();
      e.message = "migration " + std::to_string(m.version) + " failed: " + e.message;
      return fail(e);
    }
    if (auto st = db.exec("PRAGMA user_version = " + std::to_string(m.version)); !st) {
      return fail(st.error());
    }
  }
  return db.exec("COMMIT");
}

}  // namespace rh::sqlite

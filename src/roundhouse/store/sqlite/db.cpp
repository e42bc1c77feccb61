#include "roundhouse/store/sqlite/db.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

namespace rh::sqlite {

Error sqlite_error(sqlite3* db, std::string_view what) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "sqlite error");
  if ((code & 0xff) == SQLITE_CONSTRAINT)
    return Error{ErrorCode::conflict, msg};
  if ((code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_IOERR) {
    return Error{ErrorCode::io, msg};
  }
  return Error{ErrorCode::internal, msg};
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (m_stmt)
      sqlite3_finalize(m_stmt);
    m_db = o.m_db;
    m_stmt = o.m_stmt;
    o.m_stmt = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (m_stmt)
    sqlite3_finalize(m_stmt);
}

Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_blob(int i, std::string_view v) {
  sqlite3_bind_blob(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(m_stmt, i, v);
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(m_stmt, i, v);
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(m_stmt, i);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  auto err = sqlite_error(m_db, "statement failed");
  sqlite3_reset(m_stmt);
  return std::unexpected(err);
}

Status Stmt::exec() {
  // Reset when done (or failed), so the statement can be bound and run again.
  while (true) {
    auto row = step();
    if (!row) {
      sqlite3_reset(m_stmt);
      return std::unexpected(row.error());
    }
    if (!*row)
      break;
  }
  sqlite3_reset(m_stmt);
  return {};
}

void Stmt::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

std::string Stmt::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, col))) : std::string();
}

std::string_view Stmt::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(m_stmt, col));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, col)))
           : std::string_view();
}

int64_t Stmt::int64(int col) const {
  return sqlite3_column_int64(m_stmt, col);
}
double Stmt::real(int col) const {
  return sqlite3_column_double(m_stmt, col);
}
bool Stmt::is_null(int col) const {
  return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    auto err = sqlite_error(db, "cannot open database " + path);
    err.code = ErrorCode::io;
    sqlite3_close(db);
    return std::unexpected(err);
  }
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<Db> out(new Db(db));
  // Switching to WAL takes an exclusive lock and does not wait on the busy
  // handler: two processes creating the same database at once would see
  // "database is locked". Retry for as long as the busy timeout.
  for (int attempt = 0;; ++attempt) {
    auto st = out->exec("PRAGMA journal_mode=WAL");
    if (st)
      break;
    int code = sqlite3_errcode(db) & 0xff;
    if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 1000)
      return std::unexpected(st.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  RH_TRY(out->exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return out;
}

Db::~Db() {
  m_cache.clear();
  sqlite3_close_v2(m_db);
}

Status Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    auto e = sqlite_error(m_db, "SQL failed");
    e.message = "SQL failed: " + msg;
    return std::unexpected(e);
  }
  return {};
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &s, nullptr) !=
      SQLITE_OK) {
    return std::unexpected(sqlite_error(m_db, "cannot prepare \"" + std::string(sql) + "\""));
  }
  return Stmt(m_db, s);
}

Result<Stmt*> Db::cached(const char* sql) {
  auto it = m_cache.find(sql);
  if (it == m_cache.end()) {
    RH_TRY_ASSIGN(Stmt s, prepare(sql));
    it = m_cache.emplace(sql, std::move(s)).first;
  } else {
    it->second.reset();
  }
  return &it->second;
}

void Db::reset_cached() {
  for (auto& [sql, stmt] : m_cache)
    stmt.reset();
}

int64_t Db::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(m_db);
}
int Db::changes() const {
  return sqlite3_changes(m_db);
}

}  // namespace rh::sqlite

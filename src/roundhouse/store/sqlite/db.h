// Thin RAII wrappers over the SQLite C API: a connection and a prepared
// statement whose bind/column calls report errors as Results. Not
// thread-safe: each thread uses its own Db (see SqliteStore).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "roundhouse/util/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace rh::sqlite {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s) : m_db(db), m_stmt(s) {}
  Stmt(Stmt&& o) noexcept : m_db(o.m_db), m_stmt(o.m_stmt) { o.m_stmt = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // Binds are 1-based, like SQLite's.
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_blob(int i, std::string_view v);
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind_null(int i);

  // true = a row is ready, false = done.
  Result<bool> step();
  // Runs to completion, ignoring rows.
  Status exec();
  // Runs to completion, calling on_row for each row; on_row returns void or
  // Status (an error stops the walk and is returned).
  template <class F>
  Status each_row(F&& on_row) {
    while (true) {
      RH_TRY_ASSIGN(bool row, step());
      if (!row) {
        return {};
      }
      if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
        on_row();
      } else {
        RH_TRY(on_row());
      }
    }
  }
  void reset();

  std::string text(int col) const;
  std::string_view blob(int col) const;
  int64_t int64(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* m_db = nullptr;
  sqlite3_stmt* m_stmt = nullptr;
};

class Db {
 public:
  // Opens (creating when asked) the database file; sets busy timeout and WAL.
  static Result<std::unique_ptr<Db>> open(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status exec(std::string_view sql);
  Result<Stmt> prepare(std::string_view sql);
  // A statement prepared once per connection and reset on each use.
  Result<Stmt*> cached(const char* sql);
  // Resets every cached statement, ending the read snapshot a half-stepped one holds.
  void reset_cached();
  int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* raw() { return m_db; }

 private:
  explicit Db(sqlite3* db) : m_db(db) {}
  sqlite3* m_db;
  std::unordered_map<const char*, Stmt> m_cache;
};

Error sqlite_error(sqlite3* db, std::string_view what);

}  // namespace rh::sqlite

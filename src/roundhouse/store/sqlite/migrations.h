// Numbered schema migrations for the SQLite backend, compiled in. apply_migrations
// runs the ones newer than PRAGMA user_version in one transaction at start-up.
#pragma once

#include "roundhouse/store/sqlite/db.h"

namespace rh::sqlite {

Status apply_migrations(Db& db);
int latest_schema_version();

}  // namespace rh::sqlite

// The SQLite backend of MetadataStore: the embedded default.
//
// One writer thread with group commit (writer.h), a pool of reader
// connections, WAL with checkpoints on a background connection, and scalar
// points stored as chunks (store/scalar_chunk.h).
#pragma once

#include <memory>
#include <string>

#include "roundhouse/env/env.h"
#include "roundhouse/store/metadata_store.h"

namespace rh {

// Opens or creates the database at path and brings its schema up to date.
// env must outlive the store.
Result<std::unique_ptr<MetadataStore>> open_sqlite_store(const std::string& path, Env& env);

// Merges small scalar chunks now (the store does this in the background
// every two seconds); for tests and maintenance commands.
Status compact_scalar_chunks(MetadataStore& store);

}  // namespace rh

// Factories for the SQLite implementations of each MetadataStore part.
// Internal to store/sqlite.
#pragma once

#include <map>
#include <memory>

#include "roundhouse/store/metadata_store.h"
#include "roundhouse/store/sqlite/shared.h"

namespace rh::sqlite {

std::unique_ptr<ProjectStore> make_project_part(Shared& s);
std::unique_ptr<TaskStore> make_task_part(Shared& s);
std::unique_ptr<ScalarStore> make_scalar_part(Shared& s);
std::unique_ptr<ConsoleStore> make_console_part(Shared& s);
std::unique_ptr<ArtifactStore> make_artifact_part(Shared& s);
std::unique_ptr<PlotStore> make_plot_part(Shared& s);
std::unique_ptr<QueueStore> make_queue_part(Shared& s, TaskStore& tasks);
std::unique_ptr<DatasetStore> make_dataset_part(Shared& s);
std::unique_ptr<BlobOrphans> make_blob_orphans_part(Shared& s);  // blob_orphans.cpp
std::unique_ptr<BlobAliases> make_blob_aliases_part(Shared& s);  // blob_aliases.cpp

// Inside a write: the blobs the task refers to (its artifacts and their
// members, models, plots), or only those of one artifact, become removal
// candidates since `now` (blob_orphans.cpp).
Status note_orphans_in_tx(Db& db, const std::string& task_id, const std::string* artifact,
                          double now);

// Chunks under this many points are merged with their small neighbours.
inline constexpr int64_t k_small_chunk_points = 4096;
// Merges runs of consecutive small chunks of the series noted in
// Shared::small_series (one write per series), keeping the points' order.
Status compact_small_chunks(Shared& s);

// Inside a write: the project's ID, creating the project when new.
Result<std::string> ensure_project_in_tx(Db& db, Env& env, const std::string& name,
                                         const std::string& description);

// Inside a write: the task's status, message and times (started on the first
// running, completed on a final status). The caller checks the transition.
Status set_status_in_tx(Db& db, const std::string& id, TaskStatus to, const std::string& message,
                        double now);

// Inside a write: merges keys into the task's runtime facts.
Status merge_runtime_in_tx(Db& db, const std::string& task_id,
                           const std::map<std::string, std::string>& facts);

}  // namespace rh::sqlite

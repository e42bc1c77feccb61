// JSON forms of the queue and dataset records (docs/api.md), shared by the
// REST API and its client.
#pragma once

#include "roundhouse/store/metadata_store.h"
#include "roundhouse/util/json.h"

namespace rh {

Json to_json(const Queue& q);
Json to_json(const QueueEntry& e);
Json to_json(const Worker& w);
Status from_json(const Json& j, const std::string& where, Queue& out);
Status from_json(const Json& j, const std::string& where, QueueEntry& out);
Status from_json(const Json& j, const std::string& where, Worker& out);
Json to_json(const DatasetFile& f);
Json to_json(const DatasetSummary& s);
Json to_json(const DatasetVersion& v);
Status from_json(const Json& j, const std::string& where, DatasetFile& out);
Status from_json(const Json& j, const std::string& where, DatasetSummary& out);
Status from_json(const Json& j, const std::string& where, DatasetVersion& out);

// A draft copy of a task: same code, environment, parameters, configurations
// and tags; parent = the original; status created. Name defaults to the original's.
Result<Task> clone_task(TaskStore& tasks, const std::string& id, const std::string& name,
                        const std::string& comment);

}  // namespace rh

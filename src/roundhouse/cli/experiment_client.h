// How the experiment commands talk to the server: experiments live behind
// /api/v1/experiments (docs/api.md), not in the MetadataStore interface.
// Internal to cli/ (it brings nlohmann/json).
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "roundhouse/client/http_client.h"
#include "roundhouse/model/json.h"
#include "roundhouse/store/metadata_store.h"
#include "roundhouse/util/error.h"

namespace rh::cli {

class Context;

// A request to the server Context talks to, the reply parsed.
Result<Json> experiment_call(Context& ctx, const std::string& method, const std::string& path,
                             const Json& body = Json());

// Calls fn with every console line of the task, in order (read a page at a time).
Status each_console_line(MetadataStore& store, const std::string& task_id,
                         const std::function<void(const ConsoleLine&)>& fn);

// Prints each trial's changes (state, target, best metric) as they happen,
// until the experiment ends; the experiment's last state decides the result
// (completed: ok; otherwise an error naming it).
Status follow_experiment(HttpClient& http, const std::string& id, std::FILE* out);

}  // namespace rh::cli

// The Api object behind add_api_routes(): the state every route shares (the
// stores, the change hub that wakes long-polls, the agents' take thread, the
// worker reaper, the experiment and DAG runners) and one add_*_routes() per resource, each defined
// in its own file (api/<resource>_routes.cpp). Internal to api/.
#pragma once

#include <chrono>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "roundhouse/api/blob_sweeper.h"
#include "roundhouse/api/change_hub.h"
#include "roundhouse/api/dag_runner.h"
#include "roundhouse/api/experiment_runner.h"
#include "roundhouse/api/http.h"
#include "roundhouse/api/routes.h"
#include "roundhouse/api/worker_reaper.h"
#include "roundhouse/util/serial.h"

namespace rh::api {

class Api {
 public:
  explicit Api(ApiContext& ctx);
  // Adds every route to r; r must keep this object alive (Router::keep_alive).
  void add(Router& r);

 private:
  // routes.cpp: what all routes share.
  // A task ID from the path: full IDs pass through, prefixes are resolved.
  Result<std::string> task_id(const std::string& p);
  // Adds a route; writes to a task (or a new task) bump the change hub so
  // that live pages and long-polls waiting on it wake up.
  void route(Router& r, const std::string& method, const std::string& pattern, Handler h,
             bool stream_body = false);
  void add_service_routes(Router& r);  // health, changes (long-poll), keys

  void add_project_routes(Router& r);  // project_routes.cpp
  void add_task_routes(Router& r);     // task_routes.cpp: tasks, status, tags, parameters
  Result<HttpResponse> list_tasks(HttpRequest& req);
  void add_event_routes(Router& r);  // event_routes.cpp: scalars, console, plots
  Result<HttpResponse> post_scalars(HttpRequest& req);
  Result<HttpResponse> get_series(HttpRequest& req);
  void add_artifact_routes(Router& r);    // artifact_routes.cpp: artifacts, models
  void add_blob_routes(Router& r);        // blob_routes.cpp
  void add_blob_alias_routes(Router& r);  // blob_alias_routes.cpp
  // Blobs first, then the row that points to them: the size of body.digest's
  // stored object, or an error telling the client to upload it.
  Result<uint64_t> stored_blob_size(const std::string& digest);
  // Removal candidates among `asked` that the store holds (not in `missing`)
  // are refreshed: a client is about to refer to them (BlobOrphans).
  Status refresh_present(const std::vector<std::string>& asked,
                         const std::vector<std::string>& missing);
  Result<HttpResponse> blob_response(const std::string& digest, const std::string& content_type,
                                     const std::string& filename);
  void add_queue_routes(Router& r);  // queue_routes.cpp: queues, enqueue, take, workers
  // Takes a task or parks on the "queues" key until something is enqueued.
  void try_take(std::vector<std::string> queues, std::string worker,
                std::chrono::steady_clock::time_point deadline, Respond respond);
  void add_dataset_routes(Router& r);  // dataset_routes.cpp
  Result<std::string> dataset_id(const std::string& p);
  void add_experiment_routes(Router& r);  // experiment_routes.cpp
  void add_pipeline_routes(Router& r);    // pipeline_routes.cpp
  // A warning when agents serve the experiment's queue and none offers the
  // slots a trial asks (model/slots.h); nothing when none serve it yet.
  std::optional<std::string> slots_warning(const Task& exp, int64_t slots);

  // Held shared while a route checks a blob is stored and records a
  // reference to it; the sweeper holds it exclusively (blob_sweeper.h).
  std::shared_lock<std::shared_mutex> referring() { return std::shared_lock(m_refs); }

  ApiContext& m_ctx;
  std::shared_mutex m_refs;
  ChangeHub m_hub;
  Serial m_takes;                  // after m_hub: stops first
  WorkerReaper m_reaper;           // after m_hub: stops first
  ExperimentRunner m_experiments;  // after m_hub: stops first
  DagRunner m_dags;                // after m_hub: stops first
  BlobSweeper m_sweeper;           // after m_refs
};

}  // namespace rh::api

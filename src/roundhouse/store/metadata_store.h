// MetadataStore: everything Roundhouse knows about projects and tasks, behind
// narrow interfaces, one per part. Backends: SQLite (store/sqlite, the
// default), later PostgreSQL and the REST client (client/), which all pass the
// same conformance suite (store/store_conformance_test.cpp).
//
// Every method is thread-safe. Errors: invalid_argument (bad input, with where),
// not_found (unknown ID), conflict (illegal status change, editing a final
// task), ambiguous (ID prefix), io/internal (the backend failed). A method that
// returns an error has changed nothing. A write that returned success is durable.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "roundhouse/model/task.h"

namespace rh {

class ProjectStore {
 public:
  virtual ~ProjectStore() = default;
  // All projects with their task counts, by name.
  virtual Result<std::vector<Project>> list() = 0;
  virtual Result<Project> get(const std::string& name) = 0;
  // Creates the project, or returns the existing one of that name.
  virtual Result<Project> ensure(const std::string& name, const std::string& description) = 0;
};

// One condition on a task's parameter or last metric value, e.g. General/lr >= 0.01.
struct TaskFilter {
  enum class Kind { param, metric };
  Kind kind = Kind::param;
  std::string group;  // parameter section, or metric title
  std::string key;    // parameter name, or metric series
  // "=", "!=", "<", "<=", ">", ">=" (numeric when `value` is a number), "~" (contains).
  std::string op = "=";
  std::string value;
};

// "param:<section>/<name><op><value>" or "metric:<title>/<series><op><value>".
Result<TaskFilter> parse_task_filter(std::string_view text);
std::string to_string(const TaskFilter& f);

struct TaskQuery {
  std::optional<std::string> project;
  std::vector<TaskStatus> statuses;  // any of
  std::vector<std::string> tags;     // all of
  std::optional<std::string> name_contains;
  std::optional<std::string> parent;
  // "created" (default), "name", "status", "started", "completed", "last_update",
  // or "metric:<title>/<series>" (last value; tasks without it last).
  std::string order_by = "created";
  bool descending = true;
  int limit = 100;  // 1..1000
  // Opaque, from the previous page: a keyset position (the sort key + the id),
  // so rows inserted meanwhile never shift, skip or repeat the rows not yet
  // seen (a row whose sort key changes between pages moves with its key).
  std::string cursor;
  std::vector<TaskFilter> filters;  // all of
  // Extra columns: these parameters land in each summary's hyperparameters,
  // these series' summaries in its metrics (as {section|title, name|series}).
  std::vector<std::pair<std::string, std::string>> with_params;
  std::vector<std::pair<std::string, std::string>> with_metrics;
};

// The parameter and metric names in use, for column choosers and filters.
struct TaskKeys {
  std::vector<std::pair<std::string, std::string>> params;   // (section, name)
  std::vector<std::pair<std::string, std::string>> metrics;  // (title, series)
};

struct TaskPage {
  std::vector<Task> tasks;  // summaries: no hyperparameters/configurations/script diff+content
  std::string next_cursor;  // empty on the last page
};

class TaskStore {
 public:
  virtual ~TaskStore() = default;
  // Creates the task (and its project when new) with status created.
  virtual Result<Task> create(const NewTask& t) = 0;
  // The whole record, hyperparameters and configurations included.
  virtual Result<Task> get(const std::string& id) = 0;
  // The full ID of the one task whose ID starts with prefix (>= 4 hex digits
  // unless it is a full ID); not_found or ambiguous otherwise.
  virtual Result<std::string> resolve(const std::string& prefix) = 0;
  virtual Result<TaskPage> list(const TaskQuery& q) = 0;
  // Names used by the newest 2,000 tasks (of the project, when given).
  virtual Result<TaskKeys> keys(const std::optional<std::string>& project) = 0;
  virtual Result<Task> update(const std::string& id, const TaskPatch& patch) = 0;
  // Moves the task to `to`; conflict unless is_legal_transition(current, to).
  // Sets started on entering running (first time) and completed on a final status.
  virtual Result<Task> set_status(const std::string& id, TaskStatus to,
                                  const std::string& message) = 0;
  virtual Result<Task> change_tags(const std::string& id, const std::vector<std::string>& add,
                                   const std::vector<std::string>& remove) = 0;
  // Upserts parameters by (section, name). With replace_sections, the sections
  // named in `params` are cleared first.
  virtual Status set_hyperparameters(const std::string& id,
                                     const std::vector<Hyperparameter>& params,
                                     bool replace_sections) = 0;
  virtual Status set_configuration(const std::string& id, const Configuration& c) = 0;
  // Removes the task and everything recorded under it (not its blobs).
  virtual Status remove(const std::string& id) = 0;
};

struct ScalarReadOptions {
  // 0 = every point. Otherwise at most about max_points, chosen per bucket of
  // steps as the minimum and maximum (so spikes survive), plus the first and last.
  int max_points = 0;
  std::optional<int64_t> min_step;
  std::optional<int64_t> max_step;
};

class ScalarStore {
 public:
  virtual ~ScalarStore() = default;
  // Appends every series in one durable write. Times of 0 or missing mean now.
  // A non-empty request_key makes a retry safe: a batch whose key was already
  // applied to this task (within the last day) is not applied again.
  virtual Status append(const std::string& task_id, std::vector<ScalarSeries> batch,
                        const std::string& request_key) = 0;
  Status append(const std::string& task_id, std::vector<ScalarSeries> batch) {
    return append(task_id, std::move(batch), {});
  }
  // Every series of the task with count, last, min and max, by title and series.
  virtual Result<std::vector<SeriesSummary>> summaries(const std::string& task_id) = 0;
  // One series' points in the order they were logged (downsampled if asked).
  virtual Result<ScalarSeries> read(const std::string& task_id, const std::string& title,
                                    const std::string& series, const ScalarReadOptions& opt) = 0;
};

class ConsoleStore {
 public:
  virtual ~ConsoleStore() = default;
  // Appends lines (their seq is ignored and assigned); returns the last seq.
  // request_key as for scalars: a repeated key returns the first answer.
  virtual Result<int64_t> append(const std::string& task_id, std::vector<ConsoleLine> lines,
                                 const std::string& request_key) = 0;
  Result<int64_t> append(const std::string& task_id, std::vector<ConsoleLine> lines) {
    return append(task_id, std::move(lines), {});
  }
  // Lines with seq > after, at most limit, in order.
  virtual Result<std::vector<ConsoleLine>> read(const std::string& task_id, int64_t after,
                                                int limit) = 0;
};

class PlotStore {
 public:
  virtual ~PlotStore() = default;
  // Records a plot (data must be a JSON object; images need a digest).
  virtual Result<Plot> add(const std::string& task_id, const Plot& p) = 0;
  // Plots with id > after, oldest first, at most limit; kind filters when non-empty.
  virtual Result<std::vector<Plot>> list(const std::string& task_id, const std::string& kind,
                                         int64_t after, int limit) = 0;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Records (or replaces, by name) an artifact whose blob (and members) are
  // already stored. The blobs a replaced artifact referred to become
  // candidates for removal (BlobOrphans).
  virtual Result<Artifact> put(const std::string& task_id, const Artifact& a) = 0;
  virtual Result<std::vector<Artifact>> list(const std::string& task_id) = 0;
  virtual Result<Artifact> get(const std::string& task_id, const std::string& name) = 0;
  // Forgets the artifact (not_found when there is none); its blob and
  // members become candidates for removal (BlobOrphans). Deleting a task
  // does the same for all of its artifacts, models and plots.
  virtual Status remove(const std::string& task_id, const std::string& name) = 0;
  virtual Result<Model> add_model(const Model& m) = 0;
  virtual Result<std::vector<Model>> models(const std::string& task_id) = 0;
};

// Blob collection, the server's own (a client of a server refuses with
// invalid_argument). A candidate is a blob that lost a reference at some
// time; it is removable once nothing refers to it (no artifact or artifact
// member, model, plot, dataset file or alias) and it has stayed a candidate since
// before `before`: the grace covers an upload in flight, and a client that
// asks which blobs are missing (an upload about to refer to present ones)
// refreshes those candidates. removable() returns up to `limit` such
// digests and drops the candidates found referenced; after removing the
// blobs the caller forgets them.
class BlobOrphans {
 public:
  virtual ~BlobOrphans() = default;
  virtual Result<std::vector<std::string>> removable(double before, int limit) = 0;
  virtual Status forget(const std::vector<std::string>& digests) = 0;
  virtual Status refresh(const std::vector<std::string>& digests) = 0;
  // The manifests of checkpoint artifacts recorded before members were
  // (migration 7): their files are known only from reading them, so a
  // collector must treat what they list as referenced.
  virtual Result<std::vector<std::string>> memberless_manifests() = 0;
};

// Other names for stored blobs: the md5 names DVC's cache and lock files
// use (a file's "<md5>", a folder listing's "<md5>.dir"), so a pipeline's
// cache pushed to a server is found again by the names its lock records.
// An alias refers to its blob: the blob is not collected while it stands
// (BlobOrphans). put() records only aliases of blobs the caller checked are
// stored; a name already recorded keeps its blob (the same content by
// construction). Names are checked: 32 lowercase hex digits, optionally
// ".dir"; digests as hash/digest.h spells them.
class BlobAliases {
 public:
  virtual ~BlobAliases() = default;
  virtual Status put(const std::vector<std::pair<std::string, std::string>>& md5_to_digest) = 0;
  // The known ones among `md5s` (name -> digest); unknown names are left out.
  virtual Result<std::vector<std::pair<std::string, std::string>>> lookup(
      const std::vector<std::string>& md5s) = 0;
};

// Whether `name` is an md5 name BlobAliases takes.
bool valid_md5_name(const std::string& name);

struct Queue {
  std::string id;
  std::string name;
  double created = 0;
  // When the agent running one of its tasks goes silent: true puts the task
  // back in the queue (where it was), false marks it failed.
  bool requeue_on_lost = false;
  int64_t waiting = 0;  // tasks in the queue now
};

struct QueueEntry {
  std::string task_id;
  std::string task_name;
  int64_t priority = 0;
  double enqueued = 0;
};

struct Worker {
  std::string name;  // unique; an agent picks it (default: host:pid)
  std::string host;
  std::vector<std::string> queues;  // served, in preference order
  std::string gpus;                 // e.g. "0,1"; empty: none
  std::string task_id;              // running now; empty when idle
  double registered = 0;
  double last_heartbeat = 0;
};

// A task whose agent went silent, and what became of it (failed, queued or paused).
struct LostTask {
  std::string task_id;
  std::string worker;
  TaskStatus status = TaskStatus::failed;
};

class QueueStore {
 public:
  virtual ~QueueStore() = default;
  virtual Result<Queue> create(const std::string& name, bool requeue_on_lost) = 0;
  virtual Result<std::vector<Queue>> list() = 0;
  virtual Result<Queue> get(const std::string& name) = 0;
  // Refused (conflict) while tasks wait in it.
  virtual Status remove(const std::string& name) = 0;
  // created (or paused) -> queued, behind the tasks of higher or equal
  // priority already waiting. Records queue and priority in the runtime.
  virtual Result<Task> enqueue(const std::string& task_id, const std::string& queue,
                               int64_t priority) = 0;
  // queued -> created (a draft again).
  virtual Result<Task> dequeue(const std::string& task_id) = 0;
  // Waiting tasks in the order they will be taken: priority high to low, then
  // enqueue time.
  virtual Result<std::vector<QueueEntry>> entries(const std::string& queue, int limit) = 0;
  // Atomically takes the next task of the first queue (in the order given)
  // that has one: queued -> running, runtime.worker set, and the worker's
  // current task. Two callers never get the same task. nullopt: all empty.
  virtual Result<std::optional<Task>> take(const std::vector<std::string>& queues,
                                           const std::string& worker) = 0;
  // Registers or refreshes a worker; last_heartbeat = now.
  virtual Status heartbeat(const Worker& w) = 0;
  virtual Result<std::vector<Worker>> workers() = 0;
  virtual Status unregister(const std::string& worker) = 0;
  // Workers not heard from since `cutoff` are removed; the task each was
  // running, if still running, is failed or requeued as its queue says; a
  // trial of an experiment (runtime kind "trial") is paused instead, and its
  // experiment queues it again to resume from its latest checkpoint.
  virtual Result<std::vector<LostTask>> reap_workers(double cutoff) = 0;
};

// One file of a dataset version: where it sits in the dataset, what it holds.
struct DatasetFile {
  std::string path;    // relative, '/'-separated, no "..", no leading '/'
  std::string digest;  // sha256:<hex> in the BlobStore
  uint64_t size = 0;
  uint32_t mode = 0644;
  bool operator==(const DatasetFile&) const = default;
};

// A version against its parents (the union of their files, later parents win).
struct DatasetSummary {
  int64_t files = 0;
  int64_t bytes = 0;
  int64_t added = 0, modified = 0, removed = 0;
  int64_t added_bytes = 0, modified_bytes = 0, removed_bytes = 0;
};

enum class DatasetState { draft, final_ };

struct DatasetVersion {
  std::string id;
  std::string project;
  std::string name;
  std::string version;  // unique per (project, name)
  std::vector<std::string> parents;
  DatasetState state = DatasetState::draft;
  std::vector<std::string> tags;
  std::string manifest;  // final versions: the manifest blob's digest
  std::string task_id;   // the task that created it, if any
  DatasetSummary summary;
  double created = 0;
  double finalized = 0;
};

struct NewDatasetVersion {
  std::string project;
  std::string name;
  std::string version;  // empty: the next patch version after the highest (1.0.0 first)
  std::vector<std::string> parents;  // final versions; the draft starts with their files
  std::vector<std::string> tags;
  std::string task_id;
};

struct DatasetQuery {
  std::optional<std::string> project;
  std::optional<std::string> name;
  std::optional<std::string> version;
  std::vector<std::string> tags;  // all of
  bool final_only = false;
  int limit = 100;
};

// A slice of changes to a draft's files.
struct FileChanges {
  std::vector<DatasetFile> put;   // added or replaced, by path
  std::vector<std::string> gone;  // paths removed
};

class DatasetStore {
 public:
  virtual ~DatasetStore() = default;
  virtual Result<DatasetVersion> create(const NewDatasetVersion& v) = 0;
  virtual Result<DatasetVersion> get(const std::string& id) = 0;
  virtual Result<std::string> resolve(const std::string& prefix) = 0;
  // Newest first.
  virtual Result<std::vector<DatasetVersion>> list(const DatasetQuery& q) = 0;
  // Drafts only: adds or replaces files by path.
  virtual Status put_files(const std::string& id, const std::vector<DatasetFile>& files) = 0;
  // Drafts only: removes files whose path matches the glob (fnmatch, '*'
  // crosses '/'); returns how many.
  virtual Result<int64_t> remove_files(const std::string& id, const std::string& pattern) = 0;
  // Drafts only: removes exactly these paths (no pattern matching), in one
  // write; paths the version does not have are skipped. Returns how many went.
  virtual Result<int64_t> remove_paths(const std::string& id,
                                       const std::vector<std::string>& paths) = 0;
  // Drafts only: changes fed a slice at a time by `next` (which fills its
  // argument and returns false when there are no more), so a change of any
  // size needs no more memory than a slice. Every backend applies them in
  // one write: on an error (a bad row, a failing `next`) none of them landed.
  // Returns how many paths went.
  virtual Result<int64_t> change_files(const std::string& id,
                                       const std::function<Result<bool>(FileChanges&)>& next) = 0;

  // Files in path order after `after`, at most limit.
  virtual Result<std::vector<DatasetFile>> files(const std::string& id, const std::string& after,
                                                 int limit) = 0;
  // The draft's summary against its parents, as finalizing would record it.
  virtual Result<DatasetSummary> summarize(const std::string& id) = 0;
  // draft -> final with its manifest blob (stored first); conflict when it
  // is not a draft (a second finalizer loses).
  virtual Result<DatasetVersion> finalize(const std::string& id, const std::string& manifest) = 0;
  virtual Result<DatasetVersion> change_tags(const std::string& id,
                                             const std::vector<std::string>& add,
                                             const std::vector<std::string>& remove) = 0;
  // Refused (conflict) while another version has it as a parent.
  virtual Status remove(const std::string& id) = 0;
};

std::string_view to_string(DatasetState s);

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  virtual ProjectStore& projects() = 0;
  virtual TaskStore& tasks() = 0;
  virtual ScalarStore& scalars() = 0;
  virtual ConsoleStore& console() = 0;
  virtual ArtifactStore& artifacts() = 0;
  virtual PlotStore& plots() = 0;
  virtual QueueStore& queues() = 0;
  virtual DatasetStore& datasets() = 0;
  virtual BlobOrphans& blob_orphans() = 0;
  virtual BlobAliases& blob_aliases() = 0;
  // Finishes pending writes and releases the backend; later calls fail.
  virtual void close() = 0;
};

}  // namespace rh

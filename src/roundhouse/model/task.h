// The task record and the objects hanging off it: the names every layer
// (store, API, CLI, SDK, UI) uses. See ARCHITECTURE.md, "Data model".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {

enum class TaskStatus { created, queued, running, paused, completed, failed, aborted };
// ClearML's task types (Task.TaskTypes), plus `other`.
enum class TaskType {
  training,
  testing,
  inference,
  data_processing,
  application,
  monitor,
  controller,
  optimizer,
  service,
  qc,
  custom,
  other
};

std::string_view to_string(TaskStatus s);
std::string_view to_string(TaskType t);
Result<TaskStatus> parse_task_status(std::string_view s);
Result<TaskType> parse_task_type(std::string_view s);

// The one table of legal status changes:
//   created   -> queued, running, aborted
//   queued    -> created (dequeue), running, aborted
//   running   -> completed, failed, aborted, paused, queued (requeued when its agent vanished)
//   paused    -> running, queued, aborted
//   completed, failed, aborted: final.
bool is_legal_transition(TaskStatus from, TaskStatus to);
bool is_final(TaskStatus s);
// True while the task's code, environment, parameters and configurations may
// change: a draft, or a run recording itself.
bool is_editable(TaskStatus s);

// Where the code came from: a git checkout (repository, branch, commit, diff)
// or, outside git, the script's own content.
struct Script {
  std::string repository;
  std::string branch;
  std::string commit;
  std::string diff;
  std::string entry_point;        // script path relative to working_dir, or the command
  std::string working_dir;        // relative to the repository root
  std::string content;            // the script itself when there is no repository
  std::vector<std::string> argv;  // the full command line
  bool operator==(const Script&) const = default;
};

struct Environment {
  std::string interpreter;  // e.g. "Python 3.11.7 (/usr/bin/python3)"
  std::string os;           // e.g. "Linux 6.1.0 x86_64 (Debian 12)"
  std::string host;
  std::string requirements;  // requirements.txt text an agent installs
  std::string freeze;        // every installed package with its version
  bool operator==(const Environment&) const = default;
};

struct Hyperparameter {
  std::string section;  // "Args" for argparse, "General" or the given name for dicts
  std::string name;
  std::string value;  // as text; `type` says how to read it
  std::string type;   // "str", "int", "float", "bool", "list", ...
  std::string description;
  bool operator==(const Hyperparameter&) const = default;
};

struct Configuration {
  std::string name;
  std::string value;  // the file's text
  std::string description;
  bool operator==(const Configuration&) const = default;
};

struct SeriesSummary {
  std::string title;
  std::string series;
  int64_t count = 0;
  int64_t last_step = 0;
  double last_value = 0;
  double last_time = 0;
  double min_value = 0;  // NaN values are stored but do not count towards min/max
  double max_value = 0;
};

struct Task {
  std::string id;
  std::string project;
  std::string name;
  TaskType type = TaskType::training;
  TaskStatus status = TaskStatus::created;
  std::string status_message;
  std::string comment;
  std::vector<std::string> tags;  // sorted, unique
  std::string parent;             // the task this one was cloned from
  double created = 0;
  double started = 0;    // 0 = not yet
  double completed = 0;  // 0 = not yet; set on any final status
  double last_update = 0;
  Script script;
  Environment environment;
  std::vector<Hyperparameter> hyperparameters;  // sorted by section, name
  std::vector<Configuration> configurations;    // sorted by name
  // Facts about the execution: exit_code, signal, peak_rss_bytes, wall_time_s, worker, ...
  std::map<std::string, std::string> runtime;
  // Listings only: the series summaries asked for with TaskQuery::with_metrics
  // (and in `hyperparameters`, the parameters asked for with with_params).
  std::vector<SeriesSummary> metrics;
};

// What a new task starts with; the store assigns id, status and times.
struct NewTask {
  std::string project;
  std::string name;
  TaskType type = TaskType::training;
  std::string comment;
  std::vector<std::string> tags;
  std::string parent;
  Script script;
  Environment environment;
  std::vector<Hyperparameter> hyperparameters;
  std::vector<Configuration> configurations;
};

// A draft with t's code, environment, parameters, configurations, tags,
// type, project, name, comment and parent: what a clone or a retry starts
// from before it changes what differs.
NewTask as_new_task(const Task& t);

// The task's runtime value for `key`, "" when it has none.
std::string runtime_value(const Task& t, const std::string& key);
// The text of the task's configuration `name`, "" when it has none.
std::string configuration_value(const Task& t, const std::string& name);

// A partial update: only the set fields change. Code fields need an editable task.
struct TaskPatch {
  std::optional<std::string> name;
  std::optional<std::string> comment;
  std::optional<Script> script;
  std::optional<Environment> environment;
  std::optional<std::map<std::string, std::string>> runtime;  // merged key by key
};

struct Project {
  std::string id;
  std::string name;
  std::string description;
  double created = 0;
  int64_t task_count = 0;
};

// One series' points, column by column. All three columns have equal length.
struct ScalarSeries {
  std::string title;
  std::string series;
  std::vector<int64_t> steps;
  std::vector<double> values;
  std::vector<double> times;
};

enum class ConsoleStream { stdout_stream = 1, stderr_stream = 2 };

struct ConsoleLine {
  int64_t seq = 0;  // assigned by the store, 1, 2, 3... per task
  double time = 0;
  ConsoleStream stream = ConsoleStream::stdout_stream;
  std::string text;  // one line without its newline; valid UTF-8
};

struct Artifact {
  std::string name;
  std::string digest;  // sha256:<hex> in the BlobStore
  uint64_t size = 0;
  std::string type;          // file, folder, json, csv, npy, ...
  std::string content_type;  // MIME type for downloads
  std::map<std::string, std::string> metadata;
  // The blobs a folder artifact's manifest (`digest`) names, e.g. a
  // checkpoint's files: kept while the artifact is.
  std::vector<std::string> members;
  double created = 0;
};

enum class ModelDirection { input, output };
std::string_view to_string(ModelDirection d);
Result<ModelDirection> parse_model_direction(std::string_view s);

// A plot, table or debug image reported by a task. `data` is JSON whose
// shape depends on `kind`:
//   table:     {"columns": [..], "rows": [[..], ..]}
//   scatter2d: {"x": [..], "y": [..], "mode": "markers"|"lines", "xaxis", "yaxis"}
//   image:     {"width", "height", "format"} with the picture in `digest`
//   plotly:    any Plotly figure ({"data": [..], "layout": {..}})
struct Plot {
  int64_t id = 0;
  std::string title;
  std::string series;
  int64_t iteration = 0;
  std::string kind;
  std::string data = "{}";
  std::string digest;  // images: the picture in the BlobStore
  double created = 0;
};

Result<std::string_view> validate_plot_kind(std::string_view kind);

struct Model {
  std::string id;
  std::string task_id;
  std::string name;
  ModelDirection direction = ModelDirection::output;
  std::string digest;
  uint64_t size = 0;
  std::string framework;
  std::map<std::string, std::string> metadata;
  double created = 0;
};

}  // namespace rh

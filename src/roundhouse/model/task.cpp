#include "roundhouse/model/task.h"

namespace rh {

std::string_view to_string(TaskStatus s) {
  switch (s) {
    case TaskStatus::created:
      return "created";
    case TaskStatus::queued:
      return "queued";
    case TaskStatus::running:
      return "running";
    case TaskStatus::paused:
      return "paused";
    case TaskStatus::completed:
      return "completed";
    case TaskStatus::failed:
      return "failed";
    case TaskStatus::aborted:
      return "aborted";
  }
  return "created";
}

namespace {

constexpr std::pair<TaskType, std::string_view> k_task_types[] = {
    {TaskType::training, "training"},       {TaskType::testing, "testing"},
    {TaskType::inference, "inference"},     {TaskType::data_processing, "data_processing"},
    {TaskType::application, "application"}, {TaskType::monitor, "monitor"},
    {TaskType::controller, "controller"},   {TaskType::optimizer, "optimizer"},
    {TaskType::service, "service"},         {TaskType::qc, "qc"},
    {TaskType::custom, "custom"},           {TaskType::other, "other"},
};

}  // namespace

std::string_view to_string(TaskType t) {
  for (const auto& [v, name] : k_task_types)
    if (v == t)
      return name;
  return "other";
}

std::string_view to_string(ModelDirection d) {
  return d == ModelDirection::input ? "input" : "output";
}

Result<TaskStatus> parse_task_status(std::string_view s) {
  for (auto v : {TaskStatus::created, TaskStatus::queued, TaskStatus::running, TaskStatus::paused,
                 TaskStatus::completed, TaskStatus::failed, TaskStatus::aborted}) {
    if (to_string(v) == s)
      return v;
  }
  return make_error(ErrorCode::invalid_argument,
                    "unknown status \"" + std::string(s) +
                        "\" (expected created, queued, running, paused, completed, failed or "
                        "aborted)");
}

Result<TaskType> parse_task_type(std::string_view s) {
  std::string names;
  for (const auto& [v, name] : k_task_types) {
    if (name == s)
      return v;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return make_error(ErrorCode::invalid_argument,
                    "unknown task type \"" + std::string(s) + "\" (expected one of " + names + ")");
}

Result<ModelDirection> parse_model_direction(std::string_view s) {
  if (s == "input")
    return ModelDirection::input;
  if (s == "output")
    return ModelDirection::output;
  return make_error(
      ErrorCode::invalid_argument,
      "model direction must be \"input\" or \"output\", got \"" + std::string(s) + "\"");
}

bool is_legal_transition(TaskStatus from, TaskStatus to) {
  using S = TaskStatus;
  switch (from) {
    case S::created:
      return to == S::queued || to == S::running || to == S::aborted;
    case S::queued:
      return to == S::created || to == S::running || to == S::aborted;
    case S::running:
      return to == S::completed || to == S::failed || to == S::aborted || to == S::paused ||
             to == S::queued;
    case S::paused:
      // completed: a paused trial the searcher will not resume is done.
      return to == S::running || to == S::queued || to == S::aborted || to == S::completed;
    case S::completed:
    case S::failed:
    case S::aborted:
      return false;
  }
  return false;
}

Result<std::string_view> validate_plot_kind(std::string_view kind) {
  for (std::string_view k : {"table", "scatter2d", "image", "plotly"}) {
    if (k == kind)
      return k;
  }
  return make_error(
      ErrorCode::invalid_argument,
      "plot kind must be table, scatter2d, image or plotly, got \"" + std::string(kind) + "\"");
}

bool is_final(TaskStatus s) {
  return s == TaskStatus::completed || s == TaskStatus::failed || s == TaskStatus::aborted;
}

bool is_editable(TaskStatus s) {
  return s == TaskStatus::created || s == TaskStatus::running;
}

NewTask as_new_task(const Task& t) {
  NewTask n;
  n.project = t.project;
  n.name = t.name;
  n.type = t.type;
  n.comment = t.comment;
  n.tags = t.tags;
  n.parent = t.parent;
  n.script = t.script;
  n.environment = t.environment;
  n.hyperparameters = t.hyperparameters;
  n.configurations = t.configurations;
  return n;
}

std::string runtime_value(const Task& t, const std::string& key) {
  auto it = t.runtime.find(key);
  return it == t.runtime.end() ? std::string() : it->second;
}

std::string configuration_value(const Task& t, const std::string& name) {
  for (const auto& c : t.configurations)
    if (c.name == name)
      return c.value;
  return "";
}

}  // namespace rh

#include "roundhouse/experiment/records.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/util/json.h"

namespace rh::experiment {

namespace {

const std::string* runtime_of(const Task& t, const std::string& key) {
  auto it = t.runtime.find(key);
  return it == t.runtime.end() ? nullptr : &it->second;
}

void flatten_into(const Json& j, const std::string& prefix, std::vector<Hyperparameter>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items())
      flatten_into(v, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  Hyperparameter h;
  h.section = "hparams";
  h.name = prefix;
  if (j.is_string()) {
    h.value = j.get<std::string>();
    h.type = "str";
  } else {
    h.value = j.dump();
    h.type = j.is_boolean()          ? "bool"
             : j.is_number_integer() ? "int"
             : j.is_number()         ? "float"
                                     : "json";
  }
  out.push_back(std::move(h));
}

void as_test(Config& c) {
  c.searcher.name = "test_run";
  c.searcher.max_length = 2;
  c.searcher.max_trials = 1;
}

}  // namespace

bool is_experiment(const Task& t) {
  const std::string* k = runtime_of(t, "kind");
  return k && *k == "experiment";
}

bool is_context_trial(const Task& t) {
  const std::string* k = runtime_of(t, "kind");
  return k && *k == "trial";
}

bool is_clone_trial(const Task& t) {
  const std::string* k = runtime_of(t, "kind");
  return k && *k == "clone_trial";
}

bool is_trial(const Task& t) {
  return is_context_trial(t) || is_clone_trial(t);
}

std::vector<Hyperparameter> override_params(std::vector<Hyperparameter> base, const Json& hparams) {
  std::vector<Hyperparameter> values;
  if (!hparams.is_object())
    return base;
  for (const auto& [section, v] : hparams.items()) {
    if (v.is_object() && !v.empty()) {
      for (auto h : flatten_hparams(v)) {
        h.section = section;
        values.push_back(std::move(h));
      }
    } else {
      for (auto h : flatten_hparams(Json{{section, v}})) {
        h.section = "General";
        values.push_back(std::move(h));
      }
    }
  }
  for (const auto& v : values) {
    auto it = std::find_if(base.begin(), base.end(), [&](const Hyperparameter& h) {
      return h.section == v.section && h.name == v.name;
    });
    if (it == base.end()) {
      base.push_back(v);
    } else {
      it->value = v.value;  // the base's type and description stay
    }
  }
  return base;
}

Status set_runtime(MetadataStore& store, const std::string& task_id,
                   std::map<std::string, std::string> values) {
  TaskPatch p;
  p.runtime = std::move(values);
  RH_TRY(store.tasks().update(task_id, p));
  return {};
}

std::string runtime_text(const Task& t, const std::string& key) {
  return runtime_value(t, key);
}

int64_t runtime_int(const Task& t, const std::string& key) {
  const std::string* v = runtime_of(t, key);
  if (!v || v->empty())
    return 0;
  try {
    return std::stoll(*v);
  } catch (...) {
    return 0;
  }
}

std::vector<Hyperparameter> flatten_hparams(const Json& hparams) {
  std::vector<Hyperparameter> out;
  if (hparams.is_object())
    flatten_into(hparams, "", out);
  return out;
}

Result<Config> experiment_config(const Task& exp) {
  std::string text, overrides_text;
  for (const auto& c : exp.configurations) {
    if (c.name == k_config_name)
      text = c.value;
    if (c.name == k_overrides_name)
      overrides_text = c.value;
  }
  if (text.empty())
    return make_error(ErrorCode::invalid_argument,
                      "task " + exp.id + " has no configuration " + k_config_name);
  std::vector<std::string> overrides;
  if (!overrides_text.empty()) {
    RH_TRY_ASSIGN(Json o, parse_json(overrides_text, k_overrides_name));
    if (o.is_array()) {
      for (const auto& s : o)
        if (s.is_string())
          overrides.push_back(s.get<std::string>());
    }
  }
  const std::string* file = runtime_of(exp, "config_file");
  RH_TRY_ASSIGN(Config c, parse_config(text, file ? *file : k_config_name, overrides));
  const std::string* test = runtime_of(exp, "test");
  if (test && *test == "1")
    as_test(c);
  return c;
}

Result<Task> create_experiment(MetadataStore& store, BlobStore& blobs, const NewExperiment& e) {
  RH_TRY_ASSIGN(Config c, parse_config(e.config_text, e.config_file, e.overrides));
  if (e.test)
    as_test(c);
  // Nothing runs on a search that cannot start.
  uint64_t seed = c.seed ? c.seed : (e.drawn_seed ? e.drawn_seed : 1);
  RH_TRY(search::Search::start(c.searcher, c.hyperparameters, seed));
  std::string queue = !e.queue.empty()           ? e.queue
                      : !c.resource_pool.empty() ? c.resource_pool
                                                 : "default";
  if (auto q = store.queues().get(queue); !q) {
    return make_error(q.error().code,
                      q.error().message + " (create it: rh queues create " + queue + ")");
  }
  if (!e.base_task.empty()) {
    if (e.objective_title.empty() || e.objective_series.empty()) {
      return make_error(ErrorCode::invalid_argument,
                        "an experiment over clones of a task needs the objective metric's title "
                        "and series");
    }
    if (auto b = store.tasks().get(e.base_task); !b)
      return make_error(b.error().code, "base task: " + b.error().message);
  }
  if (!e.context.empty()) {
    if (auto st = blobs.stat(e.context); !st) {
      return make_error(ErrorCode::invalid_argument,
                        "context archive " + e.context + " is not stored: upload it first");
    }
  }
  // Warm start: the source trial's latest checkpoint, found now.
  std::string source_task, source_checkpoint;
  if (!c.source_trial.empty()) {
    auto id = store.tasks().resolve(c.source_trial);
    if (!id)
      return make_error(id.error().code,
                        "searcher.source_trial_id: " + id.error().message +
                            " (give the task ID of a trial here: rh trials list EXPERIMENT)");
    RH_TRY_ASSIGN(Task src, store.tasks().get(*id));
    source_checkpoint = runtime_text(src, "latest_checkpoint");
    if (source_checkpoint.empty())
      return make_error(ErrorCode::invalid_argument,
                        "searcher.source_trial_id: task " + src.id + " has no checkpoint");
    source_task = src.id;
  }
  NewTask t;
  t.project = !e.project.empty() ? e.project : !c.project.empty() ? c.project : "default";
  t.name = (!c.name.empty() ? c.name : "experiment") + (e.test ? " (test)" : "");
  t.type = TaskType::optimizer;
  t.comment = c.description;
  t.tags = c.labels;
  t.tags.push_back(k_experiment_tag);
  Json overrides = e.overrides;
  t.configurations = {Configuration{k_config_name, e.config_text, "the experiment's config"},
                      Configuration{k_overrides_name, overrides.dump(), "--config overrides"}};
  RH_TRY_ASSIGN(Task made, store.tasks().create(t));
  RH_TRY(set_runtime(store, made.id,
                     {{"kind", "experiment"},
                      {"queue", queue},
                      {"priority", std::to_string(c.priority)},
                      {"context", e.context},
                      {"config_file", e.config_file},
                      {"seed", std::to_string(seed)},
                      {"base_task", e.base_task},
                      {"objective_title", e.objective_title},
                      {"objective_series", e.objective_series},
                      {"test", e.test ? "1" : ""},
                      {"source_task", source_task},
                      {"source_checkpoint", source_checkpoint}}));
  if (!e.context.empty()) {
    // An artifact, so the blob is referred to while the experiment exists.
    Artifact a;
    a.name = "context";
    a.digest = e.context;
    RH_TRY_ASSIGN(a.size, blobs.stat(e.context));
    a.type = "context";
    a.content_type = "application/zstd";
    a.metadata["file"] = "context.tar.zst";
    RH_TRY(store.artifacts().put(made.id, a));
  }
  RH_TRY(store.tasks().set_status(made.id, TaskStatus::running, ""));
  if (e.paused) {
    RH_TRY(store.tasks().set_status(made.id, TaskStatus::paused, "created paused"));
  }
  return store.tasks().get(made.id);
}

namespace {

// Every task the query matches (page after page) that `keep` accepts.
Result<std::vector<Task>> list_all(MetadataStore& store, TaskQuery q, bool (*keep)(const Task&)) {
  std::vector<Task> out;
  q.limit = 1000;
  for (;;) {
    RH_TRY_ASSIGN(TaskPage page, store.tasks().list(q));
    for (auto& t : page.tasks) {
      if (keep(t))
        out.push_back(std::move(t));
    }
    if (page.next_cursor.empty())
      return out;
    q.cursor = page.next_cursor;
  }
}

}  // namespace

Result<std::vector<Task>> trial_tasks(MetadataStore& store, const std::string& experiment_id) {
  TaskQuery q;
  q.parent = experiment_id;
  q.order_by = "created";
  q.descending = false;
  RH_TRY_ASSIGN(std::vector<Task> out, list_all(store, q, is_trial));
  std::stable_sort(out.begin(), out.end(), [](const Task& a, const Task& b) {
    return runtime_int(a, "trial") < runtime_int(b, "trial");
  });
  return out;
}

Result<std::vector<Task>> experiment_tasks(MetadataStore& store, const std::string& project) {
  TaskQuery q;
  if (!project.empty())
    q.project = project;
  q.tags = {k_experiment_tag};
  return list_all(store, q, is_experiment);
}

}  // namespace rh::experiment

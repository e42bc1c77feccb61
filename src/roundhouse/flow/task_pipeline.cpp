#include "roundhouse/flow/task_pipeline.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "roundhouse/flow/task_dag.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/json.h"
#include "roundhouse/util/strings.h"

namespace rh::flow {

namespace {

// The latest task named `name` in `project` (not one of a pipeline's steps).
Result<Task> latest_named(MetadataStore& store, const std::string& project,
                          const std::string& name) {
  TaskQuery q{};
  q.project = project;
  q.name_contains = name;
  q.limit = 100;
  RH_TRY_ASSIGN(TaskPage page, store.tasks().list(q));
  for (auto& t : page.tasks)
    if (t.name == name && runtime_value(t, k_dag_queue).empty())
      return store.tasks().get(t.id);
  return make_error(ErrorCode::not_found,
                    "no task named '" + name + "' in project '" + project + "'");
}

std::string parameter_of(const Task& t, const std::string& section_name) {
  auto slash = section_name.find('/');
  std::string section = section_name.substr(0, slash), name = section_name.substr(slash + 1);
  for (const auto& h : t.hyperparameters)
    if (h.section == section && h.name == name)
      return h.value;
  return "";
}

bool has_parameter(const Task& t, const std::string& section_name) {
  auto slash = section_name.find('/');
  for (const auto& h : t.hyperparameters)
    if (h.section == section_name.substr(0, slash) && h.name == section_name.substr(slash + 1))
      return true;
  return false;
}

}  // namespace

Result<std::vector<Reference>> references_in(const std::string& value, const std::string& where) {
  std::vector<Reference> out;
  for (size_t at = value.find("${"); at != std::string::npos; at = value.find("${", at)) {
    size_t close = value.find('}', at);
    if (close == std::string::npos)
      return make_error(ErrorCode::invalid_argument, where + ": '${' without '}'");
    std::string inside = value.substr(at + 2, close - at - 2);
    Reference r;
    r.begin = at;
    r.end = close + 1;
    auto bad = [&] {
      return make_error(ErrorCode::invalid_argument,
                        where + ": '${" + inside +
                            "}' is none of ${pipeline.NAME}, ${STEP.id}, "
                            "${STEP.parameters.SECTION/NAME}, ${STEP.artifacts.NAME.url}, "
                            "${STEP.models.output.N.id}");
    };
    size_t dot = inside.find('.');
    if (dot == std::string::npos || dot == 0)
      return bad();
    r.step = inside.substr(0, dot);
    std::string rest = inside.substr(dot + 1);
    if (r.step == "pipeline") {
      if (rest.empty())
        return bad();
      r.key = rest;
    } else if (rest == "id") {
      r.kind = "id";
    } else if (rest.starts_with("parameters.") && rest.find('/') != std::string::npos &&
               rest.size() > 11) {
      r.kind = "parameters";
      r.key = rest.substr(11);
    } else if (rest.starts_with("artifacts.") && rest.ends_with(".url") && rest.size() > 14) {
      r.kind = "artifacts";
      r.key = rest.substr(10, rest.size() - 14);
    } else if (rest.starts_with("models.output.") && rest.ends_with(".id") && rest.size() > 17) {
      r.kind = "models";
      r.key = rest.substr(14, rest.size() - 17);
      try {
        size_t used = 0;
        (void)std::stoi(r.key, &used);
        if (used != r.key.size())
          return bad();
      } catch (const std::exception&) {
        return bad();
      }
    } else {
      return bad();
    }
    out.push_back(std::move(r));
    at = close + 1;
  }
  return out;
}

Result<Task> create_task_pipeline(MetadataStore& store, const PipelineSpec& spec,
                                  const std::string& run_id) {
  if (spec.name.empty() || spec.project.empty())
    return make_error(ErrorCode::invalid_argument, "a pipeline needs a name and a project");
  if (spec.steps.empty())
    return make_error(ErrorCode::invalid_argument, "pipeline '" + spec.name + "' has no steps");
  std::map<std::string, size_t> index;
  std::set<std::string> params;
  for (const auto& [k, v] : spec.parameters)
    params.insert(k);
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    const auto& s = spec.steps[i];
    if (s.name.empty() || s.name == "pipeline" || s.name.find('.') != std::string::npos)
      return make_error(ErrorCode::invalid_argument,
                        "step " + std::to_string(i + 1) + ": a name without '.', not 'pipeline'");
    if (!index.emplace(s.name, i).second)
      return make_error(ErrorCode::invalid_argument, "step '" + s.name + "' is defined twice");
    if (s.queue.empty() && spec.queue.empty())
      return make_error(ErrorCode::invalid_argument,
                        "step '" + s.name + "' has no queue and the pipeline no default queue");
  }
  // Parents: those named, and every step a value refers to.
  std::vector<std::set<std::string>> parents(spec.steps.size());
  std::vector<Task> bases;
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    const auto& s = spec.steps[i];
    std::string where = "step '" + s.name + "'";
    for (const auto& p : s.parents) {
      if (!index.count(p))
        return make_error(ErrorCode::invalid_argument, where + ": no step '" + p + "' to follow");
      parents[i].insert(p);
    }
    Result<Task> base = s.base_task_id.empty() ? latest_named(store, s.base_project, s.base_name)
                                               : store.tasks().get(s.base_task_id);
    if (!base)
      return make_error(base.error().code, where + ": base task: " + base.error().message);
    for (const auto& [key, value] : s.overrides) {
      if (key.find('/') == std::string::npos)
        return make_error(ErrorCode::invalid_argument,
                          where + ": override '" + key + "' is not SECTION/NAME");
      RH_TRY_ASSIGN(auto refs, references_in(value, where + ", override " + key));
      for (const auto& r : refs) {
        if (r.step == "pipeline") {
          if (!params.count(r.key))
            return make_error(ErrorCode::invalid_argument,
                              where + ": no pipeline parameter '" + r.key + "'");
          continue;
        }
        if (!index.count(r.step) || r.step == s.name)
          return make_error(ErrorCode::invalid_argument,
                            where + ": '${" + value.substr(r.begin + 2, r.end - r.begin - 3) +
                                "}' names no other step");
        parents[i].insert(r.step);
      }
    }
    bases.push_back(std::move(*base));
  }
  // No cycles: every step reachable in an order where parents come first.
  std::vector<int> state(spec.steps.size(), 0);  // 0 new, 1 visiting, 2 done
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    if (state[i] == 2)
      return {};
    if (state[i] == 1)
      return make_error(
          ErrorCode::invalid_argument,
          "pipeline '" + spec.name + "': a cycle through step '" + spec.steps[i].name + "'");
    state[i] = 1;
    for (const auto& p : parents[i])
      RH_TRY(visit(index[p]));
    state[i] = 2;
    return {};
  };
  for (size_t i = 0; i < spec.steps.size(); ++i)
    RH_TRY(visit(i));

  Json dag = Json::array();
  for (size_t i = 0; i < spec.steps.size(); ++i)
    dag.push_back({{"name", spec.steps[i].name},
                   {"after", std::vector<std::string>(parents[i].begin(), parents[i].end())}});
  Configuration dag_conf{"dag", Json{{"stages", dag}}.dump(), "the steps and their order"};
  Configuration source{"pipeline", spec.source,
                       "the pipeline's definition (a clone runs it again)"};
  Task run;
  if (run_id.empty()) {
    NewTask rt;
    rt.project = spec.project;
    rt.name = spec.name;
    rt.type = TaskType::controller;
    rt.tags = {k_dag_tag};
    for (const auto& [k, v] : spec.parameters)
      rt.hyperparameters.push_back({"Pipeline", k, v, "str", ""});
    rt.configurations = {dag_conf, source};
    RH_TRY_ASSIGN(run, store.tasks().create(rt));
  } else {
    RH_TRY_ASSIGN(run, store.tasks().get(run_id));
    RH_TRY(store.tasks().set_configuration(run.id, dag_conf));
  }
  RH_TRY(store.tasks().set_status(run.id, TaskStatus::running, ""));
  std::map<std::string, std::string> task_of;
  // Created parents first, so each step can name its parents' task IDs.
  std::vector<size_t> order;
  std::vector<char> placed(spec.steps.size(), 0);
  while (order.size() < spec.steps.size())
    for (size_t i = 0; i < spec.steps.size(); ++i) {
      if (placed[i])
        continue;
      bool ready = true;
      for (const auto& p : parents[i])
        ready = ready && placed[index[p]];
      if (ready) {
        placed[i] = 1;
        order.push_back(i);
      }
    }
  for (size_t i : order) {
    const auto& s = spec.steps[i];
    const Task& base = bases[i];
    NewTask t = as_new_task(base);
    t.project = spec.project;
    t.name = s.name;
    t.comment = "step '" + s.name + "' of pipeline '" + spec.name + "' (from " + base.id + ")";
    t.parent = run.id;
    RH_TRY_ASSIGN(Task step, store.tasks().create(t));
    std::vector<std::string> after;
    for (const auto& p : parents[i])
      after.push_back(task_of[p]);
    Json overrides = Json::object();
    for (const auto& [k, v] : s.overrides)
      overrides[k] = v;
    TaskPatch patch;
    patch.runtime =
        std::map<std::string, std::string>{{k_dag_queue, s.queue.empty() ? spec.queue : s.queue},
                                           {k_dag_after, join(after, ",")},
                                           {"dag_overrides", overrides.dump()},
                                           {"dag_base_task", base.id},
                                           {"dag_cache", s.cache ? "1" : "0"},
                                           {"dag_retries", std::to_string(s.retries)},
                                           {"dag_time_limit", std::to_string(s.time_limit)}};
    RH_TRY(store.tasks().update(step.id, patch));
    task_of[s.name] = step.id;
  }
  TaskPatch start;
  start.runtime = std::map<std::string, std::string>{
      {k_dag_run, "1"},
      {k_dag_jobs, std::to_string(spec.jobs)},
      {"dag_abort_on_failure", spec.abort_on_failure ? "1" : "0"}};
  RH_TRY(store.tasks().update(run.id, start));
  return store.tasks().get(run.id);
}

Result<std::optional<Task>> start_cloned_pipeline(MetadataStore& store,
                                                  const std::string& task_id) {
  RH_TRY_ASSIGN(Task t, store.tasks().get(task_id));
  std::string source = configuration_value(t, "pipeline");
  if (t.type != TaskType::controller || source.empty())
    return std::optional<Task>();
  if (t.status != TaskStatus::created)
    return make_error(ErrorCode::conflict, "task " + t.id + " is " +
                                               std::string(to_string(t.status)) +
                                               "; clone the pipeline run to run it again");
  RH_TRY_ASSIGN(Json j, parse_json(source, "configuration 'pipeline' of task " + t.id));
  RH_TRY_ASSIGN(PipelineSpec spec, pipeline_spec_from_json(j));
  // The clone's own parameters win; it keeps its name and project.
  for (auto& [k, v] : spec.parameters)
    v = has_parameter(t, "Pipeline/" + k) ? parameter_of(t, "Pipeline/" + k) : v;
  spec.name = t.name;
  spec.project = t.project;
  RH_TRY_ASSIGN(Task run, create_task_pipeline(store, spec, t.id));
  return std::optional<Task>(std::move(run));
}

Result<std::vector<Hyperparameter>> resolved_overrides(MetadataStore& store, const Task& run,
                                                       const Task& step) {
  std::string text = runtime_value(step, "dag_overrides");
  std::vector<Hyperparameter> out;
  if (text.empty())
    return out;
  RH_TRY_ASSIGN(Json overrides, parse_json(text, "runtime dag_overrides of " + step.id));
  // The steps of this run by name (fully read: parameters, artifacts, models).
  std::map<std::string, Task> steps;
  auto step_named = [&](const std::string& name) -> Result<const Task*> {
    if (auto it = steps.find(name); it != steps.end())
      return &it->second;
    TaskQuery q{};
    q.parent = run.id;
    q.name_contains = name;
    q.limit = 1000;
    RH_TRY_ASSIGN(TaskPage page, store.tasks().list(q));
    for (const auto& t : page.tasks)
      if (t.name == name) {
        RH_TRY_ASSIGN(Task full, store.tasks().get(t.id));
        return &steps.emplace(name, std::move(full)).first->second;
      }
    return make_error(ErrorCode::not_found, "no step '" + name + "' in run " + run.id);
  };
  for (const auto& [key, v] : overrides.items()) {
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    std::string where = "step '" + step.name + "', override " + key;
    RH_TRY_ASSIGN(auto refs, references_in(value, where));
    std::string resolved;
    size_t at = 0;
    for (const auto& r : refs) {
      resolved += value.substr(at, r.begin - at);
      at = r.end;
      if (r.step == "pipeline") {
        resolved += parameter_of(run, "Pipeline/" + r.key);
        continue;
      }
      RH_TRY_ASSIGN(const Task* t, step_named(r.step));
      if (r.kind == "id") {
        resolved += t->id;
      } else if (r.kind == "parameters") {
        if (!has_parameter(*t, r.key))
          return make_error(ErrorCode::not_found,
                            where + ": step '" + r.step + "' has no parameter " + r.key);
        resolved += parameter_of(*t, r.key);
      } else if (r.kind == "artifacts") {
        auto a = store.artifacts().get(t->id, r.key);
        if (!a)
          return make_error(ErrorCode::not_found,
                            where + ": step '" + r.step + "' has no artifact '" + r.key + "'");
        resolved += "/api/v1/blobs/" + a->digest;
      } else {
        RH_TRY_ASSIGN(auto models, store.artifacts().models(t->id));
        std::vector<const Model*> outputs;
        for (const auto& m : models)
          if (m.direction == ModelDirection::output)
            outputs.push_back(&m);
        int n = std::stoi(r.key);
        int i = n < 0 ? int(outputs.size()) + n : n;
        if (i < 0 || i >= int(outputs.size()))
          return make_error(ErrorCode::not_found,
                            where + ": step '" + r.step + "' has no output model " + r.key);
        resolved += outputs[size_t(i)]->id;
      }
    }
    resolved += value.substr(at);
    auto slash = key.find('/');
    Hyperparameter h;
    h.section = key.substr(0, slash);
    h.name = key.substr(slash + 1);
    h.value = resolved;
    h.type = "str";
    for (const auto& old : step.hyperparameters)
      if (old.section == h.section && old.name == h.name) {
        h.type = old.type;
        h.description = old.description;
      }
    out.push_back(std::move(h));
  }
  return out;
}

std::string step_cache_key(const Task& step) {
  const Script& c = step.script;
  Json key{{"repository", c.repository},
           {"commit", c.commit},
           {"diff", c.diff},
           {"entry_point", c.entry_point},
           {"working_dir", c.working_dir},
           {"content", c.content},
           {"argv", c.argv}};
  Json params = Json::array();
  for (const auto& h : step.hyperparameters)  // sorted by section, name
    params.push_back({h.section, h.name, h.value});
  Json configs = Json::array();
  for (const auto& x : step.configurations)
    configs.push_back({x.name, x.value});
  key["hyperparameters"] = params;
  key["configurations"] = configs;
  return sha256_digest(key.dump());
}

Result<std::optional<Task>> cached_step(MetadataStore& store, const Task& step,
                                        const std::string& key) {
  TaskQuery q{};
  q.project = step.project;
  q.name_contains = step.name;
  q.statuses = {TaskStatus::completed};
  q.limit = 1000;
  RH_TRY_ASSIGN(TaskPage page, store.tasks().list(q));
  for (const auto& t : page.tasks)
    if (t.id != step.id && t.name == step.name && runtime_value(t, "dag_cache_key") == key)
      return std::optional<Task>(t);
  return std::optional<Task>();
}

Status reuse_step(MetadataStore& store, const Task& step, const Task& earlier) {
  RH_TRY_ASSIGN(auto artifacts, store.artifacts().list(earlier.id));
  for (const auto& a : artifacts) {
    auto put = store.artifacts().put(step.id, a);
    if (!put)
      return std::unexpected(put.error());
  }
  RH_TRY_ASSIGN(auto models, store.artifacts().models(earlier.id));
  for (auto m : models) {
    if (m.direction != ModelDirection::output)
      continue;
    m.id.clear();
    m.task_id = step.id;
    auto added = store.artifacts().add_model(m);
    if (!added)
      return std::unexpected(added.error());
  }
  TaskPatch patch;
  patch.runtime = std::map<std::string, std::string>{{"cached_from", earlier.id}};
  RH_TRY(store.tasks().update(step.id, patch));
  RH_TRY(store.tasks().set_status(step.id, TaskStatus::running, ""));
  return status_of(store.tasks().set_status(step.id, TaskStatus::completed,
                                            "cached: the same as task " + earlier.id));
}

// A JSON value as a parameter's text: strings as they are, others as JSON.
static std::string text_of(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

Result<PipelineSpec> pipeline_spec_from_json(const Json& j) {
  PipelineSpec spec;
  RH_TRY(read_string(j, "name", "body", spec.name, true));
  RH_TRY(read_string(j, "project", "body", spec.project, true));
  RH_TRY(read_string(j, "queue", "body", spec.queue));
  int64_t jobs = 0;
  RH_TRY(read_int(j, "jobs", "body", jobs));
  spec.jobs = int(jobs);
  RH_TRY(read_bool(j, "abort_on_failure", "body", spec.abort_on_failure));
  if (j.contains("parameters")) {
    if (!j["parameters"].is_object())
      return make_error(ErrorCode::invalid_argument, "body.parameters must be an object");
    for (const auto& [k, v] : j["parameters"].items())
      spec.parameters.emplace_back(k, text_of(v));
  }
  if (!j.contains("steps") || !j["steps"].is_array())
    return make_error(ErrorCode::invalid_argument, "body.steps must be a list");
  for (size_t i = 0; i < j["steps"].size(); ++i) {
    const Json& s = j["steps"][i];
    std::string where = "body.steps[" + std::to_string(i) + "]";
    RH_TRY(expect_object(s, where));
    PipelineStep step;
    RH_TRY(read_string(s, "name", where, step.name, true));
    RH_TRY(read_string(s, "base_task_id", where, step.base_task_id));
    RH_TRY(read_string(s, "base_task_project", where, step.base_project));
    RH_TRY(read_string(s, "base_task_name", where, step.base_name));
    if (step.base_task_id.empty() && (step.base_project.empty() || step.base_name.empty()))
      return make_error(ErrorCode::invalid_argument,
                        where + ": base_task_id, or base_task_project and base_task_name");
    RH_TRY(read_string(s, "execution_queue", where, step.queue));
    RH_TRY(read_string_list(s, "parents", where, step.parents));
    RH_TRY(read_bool(s, "cache_executed_step", where, step.cache));
    int64_t retries = 0, limit = 0;
    RH_TRY(read_int(s, "retry_on_failure", where, retries));
    RH_TRY(read_int(s, "time_limit", where, limit));
    if (retries < 0 || limit < 0)
      return make_error(ErrorCode::invalid_argument,
                        where + ": retry_on_failure and time_limit are not negative");
    step.retries = int(retries);
    step.time_limit = int(limit);
    if (s.contains("parameter_override")) {
      if (!s["parameter_override"].is_object())
        return make_error(ErrorCode::invalid_argument,
                          where + ".parameter_override must be an object");
      for (const auto& [k, v] : s["parameter_override"].items())
        step.overrides[k] = text_of(v);
    }
    spec.steps.push_back(std::move(step));
  }
  spec.source = j.dump();
  return spec;
}

}  // namespace rh::flow

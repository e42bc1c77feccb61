// Task pipelines (flow/task_pipeline.h): POST /api/v1/pipelines defines and
// starts one; GET lists the runs and shows one with its steps.
#include <nlohmann/json.hpp>

#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/flow/task_dag.h"
#include "roundhouse/flow/task_pipeline.h"
#include "roundhouse/model/json.h"

namespace rh::api {

namespace {

// A JSON value as a parameter's text: strings as they are, others as JSON.
std::string text_of(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

Result<flow::PipelineSpec> spec_from(const Json& j) {
  flow::PipelineSpec spec;
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
    flow::PipelineStep step;
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
  return spec;
}

}  // namespace

void Api::add_pipeline_routes(Router& r) {
  route(r, "POST", "/api/v1/pipelines", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          RH_TRY_ASSIGN(flow::PipelineSpec spec, spec_from(j));
          for (auto& s : spec.steps)
            if (!s.base_task_id.empty()) {
              RH_TRY_ASSIGN(s.base_task_id, task_id(s.base_task_id));
            }
          RH_TRY_ASSIGN(Task run, flow::create_task_pipeline(m_ctx.store, spec));
          m_hub.bump("tasks");
          return ok_json(to_json(run), 201);
        }));
  route(r, "GET", "/api/v1/pipelines", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          TaskQuery q{};
          q.tags = {flow::k_dag_tag};
          if (req.has_query("project"))
            q.project = req.query_value("project");
          q.limit = 1000;
          RH_TRY_ASSIGN(TaskPage page, m_ctx.store.tasks().list(q));
          Json arr = Json::array();
          for (const auto& t : page.tasks)
            if (t.type == TaskType::controller)
              arr.push_back(to_json(t, false));
          return ok_json(Json{{"pipelines", arr}});
        }));
  route(r, "GET", "/api/v1/pipelines/{id}", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Task run, m_ctx.store.tasks().get(id));
          if (run.type != TaskType::controller)
            return make_error(ErrorCode::not_found, "task " + id + " is not a pipeline run");
          RH_TRY_ASSIGN(auto steps, flow::children_of(m_ctx.store, id));
          Json out = to_json(run);
          out["steps"] = Json::array();
          for (const auto& s : steps)
            out["steps"].push_back(to_json(s, false));
          return ok_json(out);
        }));
}

}  // namespace rh::api

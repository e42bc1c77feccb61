// Task pipelines (flow/task_pipeline.h): POST /api/v1/pipelines defines and
// starts one; GET lists the runs and shows one with its steps.
#include <nlohmann/json.hpp>

#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/flow/task_dag.h"
#include "roundhouse/flow/task_pipeline.h"
#include "roundhouse/model/json.h"

namespace rh::api {

void Api::add_pipeline_routes(Router& r) {
  route(r, "POST", "/api/v1/pipelines", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          RH_TRY_ASSIGN(flow::PipelineSpec spec, flow::pipeline_spec_from_json(j));
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

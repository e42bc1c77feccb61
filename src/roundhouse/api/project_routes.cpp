// Projects: list, create (or find), get.
#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"

namespace rh::api {

void Api::add_project_routes(Router& r) {
  route(r, "GET", "/api/v1/projects", sync([this](HttpRequest&) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(auto list, m_ctx.store.projects().list());
          Json arr = Json::array();
          for (const auto& p : list)
            arr.push_back(to_json(p));
          return ok_json(Json{{"projects", arr}});
        }));
  route(r, "POST", "/api/v1/projects", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::string name, description;
          RH_TRY(read_string(j, "name", "body", name, true));
          RH_TRY(read_string(j, "description", "body", description));
          RH_TRY_ASSIGN(auto p, m_ctx.store.projects().ensure(name, description));
          return ok_json(to_json(p), 201);
        }));
  route(r, "GET", "/api/v1/projects/{name}", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(auto p, m_ctx.store.projects().get(req.params[0]));
          return ok_json(to_json(p));
        }));
}

}  // namespace rh::api

// A task's artifacts and models: registered after their blobs are stored, read back by name.
#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"

namespace rh::api {

namespace {

std::string basename_of_name(const std::string& name) {
  auto pos = name.find_last_of('/');
  return pos == std::string::npos ? name : name.substr(pos + 1);
}

}  // namespace

void Api::add_artifact_routes(Router& r) {
  route(r, "POST", "/api/v1/tasks/{id}/artifacts",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          Artifact a;
          RH_TRY(from_json(j, "body", a));
          RH_TRY(validate_artifact_name(a.name));
          auto refs = referring();
          RH_TRY_ASSIGN(uint64_t size, stored_blob_size(a.digest));
          // A folder's size is its members' (the client's sum); each must be stored.
          for (const auto& m : a.members) {
            if (auto st = stored_blob_size(m); !st)
              return make_error(st.error().code, "body.members: " + st.error().message);
          }
          if (a.members.empty())
            a.size = size;
          RH_TRY_ASSIGN(Artifact stored, m_ctx.store.artifacts().put(id, a));
          return ok_json(to_json(stored), 201);
        }));
  route(r, "DELETE", "/api/v1/tasks/{id}/artifacts/{name*}",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY(m_ctx.store.artifacts().remove(id, req.params[1]));
          m_sweeper.poke();
          return ok_json(Json{{"deleted", req.params[1]}});
        }));
  route(r, "GET", "/api/v1/tasks/{id}/artifacts",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(auto list, m_ctx.store.artifacts().list(id));
          Json arr = Json::array();
          for (const auto& a : list)
            arr.push_back(to_json(a));
          return ok_json(Json{{"artifacts", arr}});
        }));
  route(r, "GET", "/api/v1/tasks/{id}/artifacts/{name*}",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Artifact a, m_ctx.store.artifacts().get(id, req.params[1]));
          if (req.query_value("download") == "1") {
            return blob_response(
                a.digest, a.content_type.empty() ? "application/octet-stream" : a.content_type,
                basename_of_name(a.name));
          }
          return ok_json(to_json(a));
        }));
  route(r, "POST", "/api/v1/tasks/{id}/models",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          Model m;
          RH_TRY(from_json(j, "body", m));
          m.task_id = id;
          auto refs = referring();
          if (!m.digest.empty()) {
            RH_TRY_ASSIGN(m.size, stored_blob_size(m.digest));
          }
          RH_TRY_ASSIGN(Model stored, m_ctx.store.artifacts().add_model(m));
          return ok_json(to_json(stored), 201);
        }));
  route(r, "GET", "/api/v1/tasks/{id}/models",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(auto list, m_ctx.store.artifacts().models(id));
          Json arr = Json::array();
          for (const auto& m : list)
            arr.push_back(to_json(m));
          return ok_json(Json{{"models", arr}});
        }));
}

}  // namespace rh::api

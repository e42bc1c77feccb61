// Datasets: versions, their files and change lists, summaries, finalize, tags.
#include "roundhouse/api/api.h"
#include "roundhouse/api/file_list.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/strings.h"

namespace rh::api {

Result<std::string> Api::dataset_id(const std::string& p) {
  if (p.size() == 32 && is_hex(p))
    return p;
  return m_ctx.store.datasets().resolve(p);
}

void Api::add_dataset_routes(Router& r) {
  auto& ds = m_ctx.store.datasets();
  route(r, "POST", "/api/v1/datasets", sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          NewDatasetVersion v;
          RH_TRY(read_string(j, "project", "body", v.project, true));
          RH_TRY(read_string(j, "name", "body", v.name, true));
          RH_TRY(read_string(j, "version", "body", v.version));
          RH_TRY(read_string_list(j, "parents", "body", v.parents));
          RH_TRY(read_string_list(j, "tags", "body", v.tags));
          RH_TRY(read_string(j, "task_id", "body", v.task_id));
          for (auto& p : v.parents) {
            RH_TRY_ASSIGN(p, dataset_id(p));
          }
          RH_TRY_ASSIGN(DatasetVersion made, ds.create(v));
          return ok_json(to_json(made), 201);
        }));
  route(r, "GET", "/api/v1/datasets", sync([&ds](HttpRequest& req) -> Result<HttpResponse> {
          DatasetQuery q;
          if (req.has_query("project"))
            q.project = req.query_value("project");
          if (req.has_query("name"))
            q.name = req.query_value("name");
          if (req.has_query("version"))
            q.version = req.query_value("version");
          q.tags = query_list(req, "tag");
          q.final_only = req.query_value("final") == "1";
          RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 100));
          if (limit < 1 || limit > 10000)
            return make_error(ErrorCode::invalid_argument,
                              "query parameter limit must be 1..10000");
          q.limit = static_cast<int>(limit);
          RH_TRY_ASSIGN(auto list, ds.list(q));
          Json arr = Json::array();
          for (const auto& v : list)
            arr.push_back(to_json(v));
          return ok_json(Json{{"datasets", arr}});
        }));
  route(r, "GET", "/api/v1/datasets/{id}",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          RH_TRY_ASSIGN(DatasetVersion v, ds.get(id));
          return ok_json(to_json(v));
        }));
  route(r, "DELETE", "/api/v1/datasets/{id}",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          RH_TRY(ds.remove(id));
          return ok_json(Json{{"deleted", id}});
        }));
  route(r, "POST", "/api/v1/datasets/{id}/files",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          std::vector<DatasetFile> files;
          if (req.header("content-type").starts_with(k_file_list_type)) {
            RH_TRY(read_file_list(req.body, files));
          } else {
            RH_TRY_ASSIGN(Json j, body_object(req));
            if (!j.contains("files"))
              return make_error(ErrorCode::invalid_argument, "body.files is required");
            RH_TRY(list_from_json(j["files"], "body.files", files));
          }
          auto refs = referring();
          RH_TRY(ds.put_files(id, files));
          return ok_json(Json{{"files", files.size()}});
        }));
  // A whole change list (rows and removals) in one request and one write:
  // all of it applies or none does.
  route(r, "PUT", "/api/v1/datasets/{id}/changes",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          RH_TRY_ASSIGN(FileChangesReader reader, FileChangesReader::open(req.body_file));
          auto refs = referring();
          RH_TRY_ASSIGN(int64_t removed,
                        ds.change_files(id, [&](FileChanges& c) { return reader.next(c); }));
          return ok_json(Json{{"removed", removed}});
        }),
        /*stream_body=*/true);
  route(
      r, "GET", "/api/v1/datasets/{id}/files",
      sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
        RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
        RH_TRY_ASSIGN(int64_t limit, query_int(req, "limit", 1000));
        if (limit < 1 || limit > 100000)
          return make_error(ErrorCode::invalid_argument, "query parameter limit must be 1..100000");
        RH_TRY_ASSIGN(auto files, ds.files(id, req.query_value("after"), static_cast<int>(limit)));
        if (req.header("accept").find(k_file_list_type) != std::string::npos) {
          HttpResponse res;
          res.content_type = k_file_list_type;
          append_file_list(res.body, files);
          return res;
        }
        Json arr = Json::array();
        for (const auto& f : files)
          arr.push_back(to_json(f));
        return ok_json(Json{{"files", arr}});
      }));
  route(r, "POST", "/api/v1/datasets/{id}/remove",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          if (j.contains("paths")) {  // exact paths (a sync's removals), not a pattern
            std::vector<std::string> paths;
            RH_TRY(read_string_list(j, "paths", "body", paths));
            RH_TRY_ASSIGN(int64_t n, ds.remove_paths(id, paths));
            return ok_json(Json{{"removed", n}});
          }
          std::string pattern;
          RH_TRY(read_string(j, "pattern", "body", pattern, true));
          RH_TRY_ASSIGN(int64_t n, ds.remove_files(id, pattern));
          return ok_json(Json{{"removed", n}});
        }));
  route(r, "GET", "/api/v1/datasets/{id}/summary",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          RH_TRY_ASSIGN(DatasetSummary s, ds.summarize(id));
          return ok_json(to_json(s));
        }));
  route(r, "POST", "/api/v1/datasets/{id}/finalize",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::string manifest;
          RH_TRY(read_string(j, "manifest", "body", manifest, true));
          RH_TRY(stored_blob_size(manifest));  // blobs, then the manifest, then the row
          RH_TRY_ASSIGN(DatasetVersion v, ds.finalize(id, manifest));
          return ok_json(to_json(v));
        }));
  route(r, "POST", "/api/v1/datasets/{id}/tags",
        sync([this, &ds](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, dataset_id(req.params[0]));
          RH_TRY_ASSIGN(Json j, body_object(req));
          std::vector<std::string> add, remove;
          RH_TRY(read_string_list(j, "add", "body", add));
          RH_TRY(read_string_list(j, "remove", "body", remove));
          RH_TRY_ASSIGN(DatasetVersion v, ds.change_tags(id, add, remove));
          return ok_json(to_json(v));
        }));
}

}  // namespace rh::api

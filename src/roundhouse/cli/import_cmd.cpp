// rh import DIR: replays a run the SDK recorded offline (DIR/journal.jsonl,
// see python/roundhouse/_offline.py) into the embedded store or RH_SERVER.
// Progress is kept in DIR/imported.json, so an interrupted import resumes
// where it stopped instead of creating the task twice. Only what the SDK's
// offline mode writes is replayed (accepted_path below): a journal from
// someone else cannot touch any task but the one it creates.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "roundhouse/api/routes.h"
#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/output.h"
#include "roundhouse/client/http_client.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/json.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/version.h"

namespace rh::cli {

namespace {

struct Reply {
  int status = 0;
  std::string body;
};

// Sends one journal request: in-process through the API routes, or over HTTP.
class Replayer {
 public:
  Replayer(Context& ctx, Config& c) : m_ctx(ctx) {
    if (!c.server.empty())
      m_http = std::make_unique<HttpClient>(c.server, c.api_token);
  }

  Result<Reply> send(const std::string& method, const std::string& path,
                     const std::string& content_type,
                     const std::map<std::string, std::string>& headers, const std::string& body,
                     const std::string& body_file) {
    if (m_http)
      return send_http(method, path, content_type, headers, body, body_file);
    if (!m_api) {
      RH_TRY_ASSIGN(MetadataStore * store, m_ctx.store());
      RH_TRY_ASSIGN(BlobStore * blobs, m_ctx.blobs());
      m_api = std::make_unique<api::ApiContext>(api::ApiContext{*store, *blobs, k_version});
      api::add_api_routes(m_router, *m_api);
    }
    auto q = path.find('?');
    auto match = m_router.match(method, path.substr(0, q));
    if (!match.handler) {
      return make_error(ErrorCode::invalid_argument, "no route for " + method + " " + path);
    }
    api::HttpRequest req;
    req.method = method;
    req.path = path.substr(0, q);
    if (q != std::string::npos)
      api::parse_query(std::string_view(path).substr(q + 1), req.query);
    req.headers["content-type"] = content_type;
    for (const auto& [k, v] : headers) {
      std::string lower = k;
      for (auto& ch : lower)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      req.headers[lower] = v;
    }
    req.params = match.params;
    if (match.stream_body) {
      req.body_file = body_file;
    } else {
      req.body = body;
    }
    Reply out;
    (*match.handler)(req, [&](api::HttpResponse r) {
      out.status = r.status;
      out.body = std::move(r.body);
    });
    return out;
  }

 private:
  Result<Reply> send_http(const std::string& method, const std::string& path,
                          const std::string& content_type,
                          const std::map<std::string, std::string>& headers,
                          const std::string& body, const std::string& body_file) {
    if (method == "PUT" && path.rfind("/api/v1/blobs/", 0) == 0) {
      RH_TRY_ASSIGN(std::string r, m_http->upload_file(path, body_file));
      return Reply{201, r};
    }
    std::vector<std::string> extra;
    for (const auto& [k, v] : headers)
      extra.push_back(k + ": " + v);
    RH_TRY_ASSIGN(HttpResult r, m_http->raw(method, path, body, content_type, extra));
    return Reply{static_cast<int>(r.status), r.body};
  }

  Context& m_ctx;
  std::unique_ptr<HttpClient> m_http;
  std::unique_ptr<api::ApiContext> m_api;
  api::Router m_router;
};

// What the SDK's offline mode writes, and nothing else: creating the task
// (the journal's first request, once), then requests on that task only, and
// blob uploads. `path` names the task by the journal's offline ID; the
// answer is the path with the created task's ID, or an error naming `where`.
Result<std::string> accepted_path(const std::string& method, const std::string& path,
                                  const std::string& offline_id, const std::string& task_id,
                                  bool first, const std::string& where) {
  auto refuse = [&](const std::string& why) -> Result<std::string> {
    return make_error(ErrorCode::invalid_argument,
                      where + ": " + method + " " + path + " is refused: " + why);
  };
  if (path.find('?') != std::string::npos || path.find("..") != std::string::npos)
    return refuse("an offline journal's paths have no query or \"..\"");
  if (method == "POST" && path == "/api/v1/tasks") {
    if (!first || !task_id.empty())
      return refuse("only the journal's first request creates its task");
    return path;
  }
  if (method == "PUT" && path.starts_with("/api/v1/blobs/")) {
    if (!validate_digest(path.substr(14)))
      return refuse("not a blob digest");
    return path;
  }
  std::string prefix = "/api/v1/tasks/" + offline_id;
  if (!path.starts_with(prefix) || (path.size() > prefix.size() && path[prefix.size()] != '/'))
    return refuse("it is not about the task this journal created (" + offline_id + ")");
  if (task_id.empty())
    return refuse("it refers to the task before the journal created it");
  std::string rest = path.substr(prefix.size());
  static const std::vector<std::pair<std::string, std::string>> allowed{
      {"PATCH", ""},          {"POST", "/status"}, {"PUT", "/hyperparameters"},
      {"POST", "/artifacts"}, {"POST", "/models"}, {"POST", "/console"},
      {"POST", "/scalars"},   {"POST", "/plots"},
  };
  bool ok = std::any_of(allowed.begin(), allowed.end(),
                        [&](const auto& a) { return a.first == method && a.second == rest; });
  if (method == "PUT" && rest.starts_with("/configurations/") && rest.size() > 16 &&
      rest.find('/', 16) == std::string::npos)
    ok = true;
  if (!ok)
    return refuse("the SDK's offline mode writes no such request");
  return "/api/v1/tasks/" + task_id + rest;
}

// A file the journal names: a plain file inside dir (no "..", no absolute
// path, no link that leads out of it).
Result<std::string> journal_file(const std::string& dir, const std::string& file,
                                 const std::string& where) {
  if (file.front() == '/' || file.find("..") != std::string::npos)
    return make_error(ErrorCode::invalid_argument,
                      where + ": file \"" + file + "\" leaves the folder");
  std::string path = dir + "/" + file;
  char real_dir[PATH_MAX], real_file[PATH_MAX];
  if (!::realpath(dir.c_str(), real_dir) || !::realpath(path.c_str(), real_file))
    return make_error(ErrorCode::not_found, where + ": file \"" + file + "\" is missing");
  if (!std::string(real_file).starts_with(std::string(real_dir) + "/"))
    return make_error(ErrorCode::invalid_argument,
                      where + ": file \"" + file + "\" is a link that leaves the folder");
  return path;
}

std::string error_message(const Reply& r) {
  auto j = parse_json(r.body, "reply");
  if (j && j->is_object() && j->contains("error"))
    return (*j)["error"].value("message", r.body);
  return "HTTP " + std::to_string(r.status);
}

Status import_dir(Context& ctx, std::string dir) {
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  RH_TRY_ASSIGN(std::string journal_path, journal_file(dir, "journal.jsonl", dir));
  RH_TRY_ASSIGN(std::string journal, read_file(journal_path));
  RH_TRY_ASSIGN(Config * cfg, ctx.config());
  std::string offline_id = basename_of(dir);
  std::string state_path = dir + "/imported.json";
  std::string task_id;
  int64_t applied = 0;
  if (path_exists(state_path)) {
    RH_TRY_ASSIGN(std::string text, read_file(state_path));
    RH_TRY_ASSIGN(Json state, parse_json(text, state_path));
    RH_TRY(expect_object(state, state_path));
    RH_TRY(read_string(state, "task_id", state_path, task_id));
    RH_TRY(read_int(state, "applied", state_path, applied));
  }
  auto lines = split(journal, '\n');
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();
  Replayer replayer(ctx, *cfg);
  Progress progress("importing " + offline_id, "entries");
  for (int64_t i = applied; i < static_cast<int64_t>(lines.size()); ++i) {
    std::string where = dir + "/journal.jsonl line " + std::to_string(i + 1);
    RH_TRY_ASSIGN(Json e, parse_json(lines[static_cast<size_t>(i)], where));
    RH_TRY(expect_object(e, where));
    std::string method, path, content_type = "application/json", file;
    std::map<std::string, std::string> headers;
    RH_TRY(read_string(e, "method", where, method, true));
    RH_TRY(read_string(e, "path", where, path, true));
    RH_TRY(read_string(e, "content_type", where, content_type));
    RH_TRY(read_string(e, "file", where, file));
    RH_TRY(read_string_map(e, "headers", where, headers));
    RH_TRY_ASSIGN(path, accepted_path(method, path, offline_id, task_id, i == 0, where));
    std::string body, body_file;
    if (!file.empty()) {
      RH_TRY_ASSIGN(body_file, journal_file(dir, file, where));
      if (!(method == "PUT" && path.rfind("/api/v1/blobs/", 0) == 0)) {
        RH_TRY_ASSIGN(body, read_file(body_file));
      }
    } else if (e.contains("json")) {
      body = e["json"].dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    RH_TRY_ASSIGN(Reply r, replayer.send(method, path, content_type, headers, body, body_file));
    if (r.status >= 300) {
      return make_error(ErrorCode::invalid_argument, where + " (" + method + " " + path +
                                                         ") was refused: " + error_message(r) +
                                                         "; fix it and run rh import again");
    }
    if (method == "POST" && path == "/api/v1/tasks") {
      RH_TRY_ASSIGN(Json created, parse_json(r.body, "reply"));
      task_id = created.value("id", "");
    }
    RH_TRY(write_file_atomic(state_path, Json{{"task_id", task_id}, {"applied", i + 1}}.dump()));
    progress.update(static_cast<uint64_t>(i + 1), lines.size());
  }
  if (task_id.empty()) {
    return make_error(ErrorCode::invalid_argument, dir + "/journal.jsonl creates no task");
  }
  std::printf("imported %s as task %s (%zu requests)\n", dir.c_str(), task_id.c_str(),
              lines.size());
  return {};
}

}  // namespace

void add_import_command(CLI::App& app, Context& ctx) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("import", "Upload a run the SDK recorded offline");
  cmd->add_option("dir", *dir, "The offline folder (~/.roundhouse/offline/<id>)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->callback([&ctx, dir] { guard([&] { return import_dir(ctx, *dir); }); });
}

}  // namespace rh::cli

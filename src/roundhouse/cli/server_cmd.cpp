// rh server: the REST API on the embedded store.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "roundhouse/api/routes.h"
#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/server/http_server.h"
#include "roundhouse/server/web_ui.h"
#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/version.h"

namespace rh::cli {

namespace {

struct ServerFlags {
  std::string host;
  int port = -1;
  int max_body_mb = 0;
  int workers = 4;
  double worker_timeout_s = 60;
  double blob_grace_s = 900;
};

Status serve(Context& ctx, const ServerFlags& f) {
  RH_TRY_ASSIGN(Config * c, ctx.config());
  RH_TRY(make_dirs(c->data_dir));
  RH_TRY_ASSIGN(auto store, open_sqlite_store(c->data_dir + "/rh.db", ctx.env));
  RH_TRY_ASSIGN(auto blobs, LocalBlobStore::open(c->data_dir + "/blobs"));
  // Uploads and packs a killed server was writing (an hour untouched: an
  // embedded rh writing into the same folder now is left alone).
  RH_TRY_ASSIGN(int64_t swept, blobs->sweep_tmp(3600));
  if (swept > 0)
    std::fprintf(stderr, "rh server: removed %lld unfinished upload(s) from %s/blobs/tmp\n",
                 static_cast<long long>(swept), c->data_dir.c_str());

  api::Router router;
  api::ApiContext api_ctx{*store, *blobs, k_version};
  api_ctx.worker_timeout_s = f.worker_timeout_s;
  api_ctx.blob_grace_s = f.blob_grace_s;
  api_ctx.store_now = [&ctx] { return ctx.env.now(); };
  api::add_api_routes(router, api_ctx);
  add_web_ui(router, web_assets());

  HttpServerOptions opt;
  opt.host = f.host.empty() ? c->host : f.host;
  opt.port = static_cast<uint16_t>(f.port >= 0 ? f.port : c->port);
  opt.max_body_bytes = f.max_body_mb > 0 ? uint64_t(f.max_body_mb) << 20 : c->max_body_bytes;
  opt.api_token = c->api_token;
  opt.upload_tmp_dir = c->data_dir + "/blobs/tmp";
  opt.worker_threads = f.workers;
  RH_TRY_ASSIGN(auto server, HttpServer::bind(router, opt));

  std::string url = "http://" + opt.host + ":" + std::to_string(server->port());
  // Discovery file: lets local tools find this server.
  std::string discovery = c->data_dir + "/server.json";
  (void)write_file_atomic(discovery,
                          nlohmann::json{{"url", url}, {"pid", ::getpid()}}.dump() + "\n");
  std::printf("rh server listening on %s (data in %s%s)\n", url.c_str(), c->data_dir.c_str(),
              opt.api_token.empty() ? "" : ", token required");
  std::fflush(stdout);

  server->run(/*handle_signals=*/true);
  ::unlink(discovery.c_str());
  store->close();
  std::printf("rh server stopped\n");
  return {};
}

}  // namespace

void add_server_command(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<ServerFlags>();
  auto* cmd =
      app.add_subcommand("server", "Serve the REST API and the web UI on the embedded store");
  cmd->add_option("--host", flags->host, "Address to bind (default 127.0.0.1)");
  cmd->add_option("--port", flags->port, "Port to bind; 0 picks a free one and prints it")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--max-body-mb", flags->max_body_mb, "Largest JSON request body in MiB")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--workers", flags->workers, "Handler threads")->check(CLI::Range(1, 256));
  cmd->add_option("--worker-timeout", flags->worker_timeout_s,
                  "Seconds without a heartbeat after which an agent's task is failed or requeued "
                  "(default 60)")
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--blob-grace", flags->blob_grace_s,
                  "Seconds a blob stays after the last reference to it goes (a deleted task, "
                  "a collected checkpoint) before it is removed; -1 keeps every blob "
                  "(default 900)")
      ->check(CLI::Range(-1.0, 1e9));
  cmd->callback([&ctx, flags] { guard([&] { return serve(ctx, *flags); }); });
}

}  // namespace rh::cli

// rh agent [--queue Q (default: default)] [--queue Q2]... [--name N] [--gpus 0,1|none] [--workdir
// DIR] [--once]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "roundhouse/agent/agent.h"
#include "roundhouse/agent/warm_python.h"
#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/util/fs.h"

namespace rh::cli {

namespace {

// The SDK beside this binary: <prefix>/bin/rh or build/rh next to python/.
std::string find_sdk() {
  if (const char* p = std::getenv("RH_SDK_PATH"))
    return p;
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return "";
  std::string dir = dirname_of(std::string(buf, static_cast<size_t>(n)));
  for (const char* rel : {"/../python", "/../lib/roundhouse/python", "/python"}) {
    std::string p = dir + rel;
    if (path_exists(p + "/roundhouse/__init__.py"))
      return p;
  }
  return "";
}

Status serve(Context& ctx, agent::AgentOptions opt) {
  RH_TRY_ASSIGN(Config * c, ctx.config());
  if (opt.server.empty())
    opt.server = c->server;
  if (opt.server.empty()) {
    // The local server, as the CLI finds it.
    if (auto text = read_file(c->data_dir + "/server.json")) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_object())
        opt.server = j.value("url", "");
    }
  }
  if (opt.server.empty()) {
    return make_error(ErrorCode::invalid_argument,
                      "rh agent needs a server: set RH_SERVER (or start `rh server` here)");
  }
  opt.token = c->api_token;
  if (opt.workdir.empty())
    opt.workdir = c->data_dir + "/agent";
  if (opt.sdk_path.empty())
    opt.sdk_path = find_sdk();
  return agent::run_agent(ctx.env, opt);
}

}  // namespace

void add_agent_command(CLI::App& app, Context& ctx) {
  auto opt = std::make_shared<agent::AgentOptions>();
  auto* cmd = app.add_subcommand("agent", "Run queued tasks on this machine");
  opt->queues = {"default"};
  cmd->add_option("--queue", opt->queues,
                  "Queue to serve (repeatable; the first has precedence; default: default)");
  cmd->add_option("--name", opt->name, "Worker name (default host:pid)");
  cmd->add_option("--gpus", opt->gpus, "CUDA_VISIBLE_DEVICES for tasks: 0,1 or none");
  cmd->add_option("--workdir", opt->workdir,
                  "Where repositories, venvs and workspaces live (default <data dir>/agent)");
  cmd->add_option("--python", opt->python, "Interpreter the venvs are made from (default python3)");
  cmd->add_option("--server", opt->server, "Server URL (default RH_SERVER or the local server)");
  cmd->add_flag("--once", opt->once, "Run one task, then exit");
  cmd->add_flag("!--no-tee", opt->tee, "Do not show the tasks' output here");
  cmd->add_option("--kill-grace", opt->kill_grace_s,
                  "Seconds between SIGTERM and SIGKILL when a task is aborted (default 10)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--heartbeat", opt->heartbeat_s, "Seconds between heartbeats (default 2)")
      ->check(CLI::Range(0.1, 600.0));
  cmd->add_flag("!--no-warm", opt->warm,
                "Start every trial in a fresh interpreter (no warm interpreter forking them)");
  cmd->callback([&ctx, opt] { guard([&] { return serve(ctx, *opt); }); });
  // What the agent runs in place of a trial's `python script.py`: hands it to
  // the warm interpreter (agent/warm_python.h). Not for users.
  auto relay = std::make_shared<std::vector<std::string>>();
  auto socket = std::make_shared<std::string>();
  auto* r = app.add_subcommand("trial-relay", "");  // hidden: no description
  r->group("");
  r->add_option("socket", *socket)->required();
  r->add_option("argv", *relay)->required();
  r->callback([socket, relay] { std::exit(agent::relay_trial(*socket, *relay)); });
}

}  // namespace rh::cli

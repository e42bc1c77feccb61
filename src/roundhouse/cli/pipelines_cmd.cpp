// rh pipelines run FILE [--param NAME=VALUE]... [--queue Q] [--wait];
// rh pipelines list [--project P]; rh pipelines show RUN: task pipelines
// (flow/task_pipeline.h) through /api/v1/pipelines. FILE (YAML or JSON)
// holds the REST body: name, project, queue, parameters, steps (name,
// base_task_id or base_task_project + base_task_name, parents,
// parameter_override, execution_queue).
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/experiment_client.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/table.h"
#include "roundhouse/util/yaml_json.h"

namespace rh::cli {

namespace {

struct RunFlags {
  std::string file, queue;
  std::vector<std::string> params;
  bool wait = false;
};

bool is_final(const std::string& s) {
  return s == "completed" || s == "failed" || s == "aborted";
}

void print_steps(const Json& state) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : state["steps"])
    rows.push_back({s.value("name", ""), s.value("status", ""), s.value("id", ""),
                    s.value("status_message", "")});
  std::printf("%s", format_table({"STEP", "STATUS", "TASK", "MESSAGE"}, rows, 2).c_str());
}

Status run_cmd(Context& ctx, const RunFlags& f) {
  RH_TRY_ASSIGN(std::string text, read_file(f.file));
  Json body;
  try {
    body = yaml_to_json(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::invalid_argument, f.file + ": " + e.what());
  }
  if (!body.is_object())
    return make_error(ErrorCode::invalid_argument, f.file + ": expected a mapping");
  if (!f.queue.empty())
    body["queue"] = f.queue;
  for (const auto& kv : f.params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      return make_error(ErrorCode::invalid_argument, "--param " + kv + ": expected NAME=VALUE");
    body["parameters"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  RH_TRY_ASSIGN(Json run, experiment_call(ctx, "POST", "/api/v1/pipelines", body));
  std::string id = run.value("id", "");
  std::printf("%s\n", id.c_str());
  std::fflush(stdout);
  if (!f.wait)
    return {};
  std::map<std::string, std::string> seen;
  for (;;) {
    RH_TRY_ASSIGN(Json state, experiment_call(ctx, "GET", "/api/v1/pipelines/" + id));
    for (const auto& s : state["steps"]) {
      std::string name = s.value("name", ""), st = s.value("status", "");
      if (seen[name] != st) {
        seen[name] = st;
        std::printf("step %s: %s%s%s\n", name.c_str(), st.c_str(),
                    s.value("status_message", "").empty() ? "" : " — ",
                    s.value("status_message", "").c_str());
        std::fflush(stdout);
      }
    }
    std::string st = state.value("status", "");
    if (is_final(st)) {
      std::printf("pipeline %s %s\n", id.c_str(), st.c_str());
      if (st != "completed")
        std::exit(1);
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

}  // namespace

void add_pipelines_commands(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("pipelines",
                                 "Task pipelines run by the server (ClearML's PipelineController)");
  cmd->require_subcommand(1);
  auto rf = std::make_shared<RunFlags>();
  auto* run = cmd->add_subcommand("run", "Define and start a pipeline from a YAML or JSON file");
  run->add_option("file", rf->file, "The pipeline (name, project, queue, parameters, steps)")
      ->required();
  run->add_option("--param", rf->params, "NAME=VALUE: a pipeline parameter");
  run->add_option("--queue", rf->queue, "The steps' default queue");
  run->add_flag("--wait", rf->wait, "Follow the steps until the pipeline ends");
  run->callback([rf, &ctx] { guard([&] { return run_cmd(ctx, *rf); }); });

  auto project = std::make_shared<std::string>();
  auto* list = cmd->add_subcommand("list", "Pipeline runs, newest first");
  list->add_option("--project", *project, "Only this project's");
  list->callback([project, &ctx] {
    guard([&]() -> Status {
      std::string path = "/api/v1/pipelines";
      if (!project->empty())
        path += "?project=" + url_encode(*project);
      RH_TRY_ASSIGN(Json r, experiment_call(ctx, "GET", path));
      std::vector<std::vector<std::string>> rows;
      for (const auto& p : r["pipelines"])
        rows.push_back({p.value("id", ""), p.value("project", ""), p.value("name", ""),
                        p.value("status", "")});
      std::printf("%s", format_table({"ID", "PROJECT", "NAME", "STATUS"}, rows, 2).c_str());
      return {};
    });
  });

  auto id = std::make_shared<std::string>();
  auto* show = cmd->add_subcommand("show", "A run and its steps");
  show->add_option("run", *id, "The run's task ID (or a unique prefix)")->required();
  show->callback([id, &ctx] {
    guard([&]() -> Status {
      RH_TRY_ASSIGN(std::string full, ctx.resolve_task(*id));
      RH_TRY_ASSIGN(Json state, experiment_call(ctx, "GET", "/api/v1/pipelines/" + full));
      std::printf("%s  %s/%s  %s%s%s\n", full.c_str(), state.value("project", "").c_str(),
                  state.value("name", "").c_str(), state.value("status", "").c_str(),
                  state.value("status_message", "").empty() ? "" : " — ",
                  state.value("status_message", "").c_str());
      print_steps(state);
      return {};
    });
  });
}

}  // namespace rh::cli

// rh experiment list|show|logs|pause|activate|cancel|kill|delete, rh trials
// list, rh checkpoints list|get: experiments on the server (IDs by unique
// prefix), each listing also as --json.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "roundhouse/agent/trial_run.h"
#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/experiment_client.h"
#include "roundhouse/cli/output.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

Result<Json> experiment_call(Context& ctx, const std::string& method, const std::string& path,
                             const Json& body) {
  RH_TRY_ASSIGN(std::string url, ctx.server_url());
  RH_TRY_ASSIGN(Config * cfg, ctx.config());
  HttpClient http(url, cfg->api_token);
  RH_TRY_ASSIGN(std::string reply, http.call(method, path, body.is_null() ? "" : body.dump()));
  return parse_json(reply, "reply");
}

Status each_console_line(MetadataStore& store, const std::string& task_id,
                         const std::function<void(const ConsoleLine&)>& fn) {
  int64_t after = 0;
  for (;;) {
    RH_TRY_ASSIGN(auto lines, store.console().read(task_id, after, 1000));
    if (lines.empty())
      return {};
    for (const auto& l : lines)
      fn(l);
    after = lines.back().seq;
  }
}

namespace {

std::string metric_text(const Json& t, const char* key) {
  return t.contains(key) && t[key].is_number() ? format_number(t[key].get<double>()) : "-";
}

std::string trial_line(const Json& t) {
  std::string s = "trial " + std::to_string(t.value("trial", 0)) + " " + t.value("state", "");
  s += " target " + std::to_string(t.value("until", 0));
  if (t.contains("reached"))
    s += " reached " + std::to_string(t.value("reached", 0));
  if (t.contains("best_metric"))
    s += " best " + metric_text(t, "best_metric");
  if (!t.value("message", "").empty())
    s += " (" + t.value("message", "") + ")";
  return s;
}

}  // namespace

Status follow_experiment(HttpClient& http, const std::string& id, std::FILE* out) {
  std::map<int64_t, std::string> shown;
  std::string state;
  for (;;) {
    RH_TRY_ASSIGN(std::string reply, http.call("GET", "/api/v1/experiments/" + id));
    RH_TRY_ASSIGN(Json e, parse_json(reply, "reply"));
    for (const auto& t : e.value("trials", Json::array())) {
      std::string line = trial_line(t);
      int64_t n = t.value("trial", int64_t(0));
      if (shown[n] != line) {
        std::fprintf(out, "%s\n", line.c_str());
        shown[n] = line;
      }
    }
    std::string now = e.value("state", "");
    if (now != state) {
      std::fprintf(out, "experiment %s %s\n", id.c_str(), now.c_str());
      state = now;
    }
    std::fflush(out);
    if (now == "completed") {
      if (e.contains("best"))
        std::fprintf(out, "best: trial %lld, %s\n", e["best"].value("trial", 0LL),
                     metric_text(e["best"], "metric").c_str());
      return {};
    }
    if (now == "aborted" || now == "failed") {
      return make_error(ErrorCode::conflict,
                        "experiment " + id + " ended " + now + ": " + e.value("message", ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

namespace {

Status list_experiments(Context& ctx, const std::string& project, bool json) {
  RH_TRY_ASSIGN(Json r,
                experiment_call(ctx, "GET",
                                "/api/v1/experiments" +
                                    (project.empty() ? "" : "?project=" + url_encode(project))));
  if (json) {
    std::printf("%s\n", r["experiments"].dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : r["experiments"]) {
    std::string best = e.contains("best") ? metric_text(e["best"], "metric") : "-";
    char progress[16];
    std::snprintf(progress, sizeof progress, "%.0f%%", 100 * e.value("progress", 0.0));
    rows.push_back({e.value("id", "").substr(0, 12), e.value("name", ""), e.value("project", ""),
                    e.value("state", ""), std::to_string(e.value("trials", 0)), progress, best,
                    format_time(e.value("created", 0.0))});
  }
  print_table({"ID", "NAME", "PROJECT", "STATE", "TRIALS", "PROGRESS", "BEST", "CREATED"}, rows);
  return {};
}

void print_trials(const Json& e) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : e["trials"]) {
    rows.push_back({std::to_string(t.value("trial", 0)), t.value("task_id", "").substr(0, 12),
                    t.value("state", ""), std::to_string(t.value("until", 0)),
                    t.contains("reached") ? std::to_string(t.value("reached", 0)) : "-",
                    metric_text(t, "best_metric"), std::to_string(t.value("restarts", 0)),
                    t["hparams"].dump()});
  }
  print_table({"TRIAL", "TASK", "STATE", "TARGET", "REACHED", "BEST", "RESTARTS", "HPARAMS"}, rows);
}

Status show_experiment(Context& ctx, const std::string& id, bool json, bool trials_only) {
  RH_TRY_ASSIGN(Json e, experiment_call(ctx, "GET", "/api/v1/experiments/" + id));
  if (json) {
    std::printf("%s\n", (trials_only ? e["trials"] : e).dump(2).c_str());
    return {};
  }
  if (!trials_only) {
    std::printf("id:       %s\nname:     %s\nproject:  %s\nstate:    %s%s\nqueue:    %s\n",
                e.value("id", "").c_str(), e.value("name", "").c_str(),
                e.value("project", "").c_str(), e.value("state", "").c_str(),
                e.value("message", "").empty() ? "" : (" (" + e.value("message", "") + ")").c_str(),
                e.value("queue", "").c_str());
    if (e.contains("searcher")) {
      const Json& s = e["searcher"];
      std::printf("searcher: %s on %s (%s), max length %llu %s\n", s.value("name", "").c_str(),
                  s.value("metric", "").c_str(),
                  s.value("smaller_is_better", true) ? "smaller is better" : "larger is better",
                  static_cast<unsigned long long>(s.value("max_length", uint64_t(0))),
                  s.value("unit", "").c_str());
    }
    std::printf("progress: %.0f%%\n", 100 * e.value("progress", 0.0));
    if (e.contains("best"))
      std::printf("best:     trial %lld (task %s), %s\n", e["best"].value("trial", 0LL),
                  e["best"].value("task_id", "").c_str(), metric_text(e["best"], "metric").c_str());
    std::printf("\n");
  }
  print_trials(e);
  return {};
}

Status act(Context& ctx, const std::string& action, const std::string& id) {
  RH_TRY_ASSIGN(Json e, experiment_call(ctx, "POST", "/api/v1/experiments/" + id + "/" + action,
                                        Json::object()));
  std::printf("experiment %s %s\n", e.value("id", "").c_str(), e.value("state", "").c_str());
  return {};
}

Status logs(Context& ctx, const std::string& id, int64_t trial) {
  RH_TRY_ASSIGN(Json e, experiment_call(ctx, "GET", "/api/v1/experiments/" + id));
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  for (const auto& t : e["trials"]) {
    int64_t n = t.value("trial", int64_t(0));
    if (trial && n != trial)
      continue;
    RH_TRY(each_console_line(*store, t.value("task_id", ""), [&](const ConsoleLine& l) {
      std::printf("[trial %lld] %s\n", static_cast<long long>(n), l.text.c_str());
    }));
  }
  return {};
}

Status list_checkpoints(Context& ctx, const std::string& id, bool json) {
  RH_TRY_ASSIGN(Json r, experiment_call(ctx, "GET", "/api/v1/experiments/" + id + "/checkpoints"));
  if (json) {
    std::printf("%s\n", r["checkpoints"].dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r["checkpoints"]) {
    rows.push_back({c.value("task_id", "").substr(0, 12) + "/" + c.value("id", ""),
                    std::to_string(c.value("trial", 0)), c.value("steps_completed", "-"),
                    format_bytes(c.value("size", uint64_t(0))),
                    format_time(c.value("created", 0.0))});
  }
  print_table({"ID", "TRIAL", "STEPS", "SIZE", "CREATED"}, rows);
  return {};
}

Status get_checkpoint(Context& ctx, const std::string& id, const std::string& out) {
  auto slash = id.find('/');
  if (slash == std::string::npos) {
    return make_error(ErrorCode::invalid_argument,
                      "checkpoint " + id + ": give it as TASK/ID (as rh checkpoints list shows)");
  }
  RH_TRY_ASSIGN(std::string task, ctx.resolve_task(id.substr(0, slash)));
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(BlobStore * blobs, ctx.blobs());
  RH_TRY_ASSIGN(std::string meta,
                agent::fetch_checkpoint(*store, *blobs, task, id.substr(slash + 1), out));
  std::printf("checkpoint %s written to %s\nmetadata: %s\n", id.c_str(), out.c_str(), meta.c_str());
  return {};
}

}  // namespace

void add_experiment_manage_commands(CLI::App& exp, CLI::App& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  auto id = std::make_shared<std::string>();
  auto project = std::make_shared<std::string>();
  auto* list = exp.add_subcommand("list", "Experiments, newest first");
  list->add_option("--project", *project, "Only this project's");
  list->add_flag("--json", *json, "As JSON");
  list->callback(
      [&ctx, project, json] { guard([&] { return list_experiments(ctx, *project, *json); }); });
  auto* show = exp.add_subcommand("show", "An experiment and its trials");
  show->add_option("id", *id, "Experiment ID (or unique prefix)")->required();
  show->add_flag("--json", *json, "As JSON");
  show->callback(
      [&ctx, id, json] { guard([&] { return show_experiment(ctx, *id, *json, false); }); });
  auto trial = std::make_shared<int64_t>(0);
  auto* lg = exp.add_subcommand("logs", "The trials' console output");
  lg->add_option("id", *id, "Experiment ID (or unique prefix)")->required();
  lg->add_option("--trial", *trial, "Only this trial (its number)");
  lg->callback([&ctx, id, trial] { guard([&] { return logs(ctx, *id, *trial); }); });
  for (std::string action : {"pause", "activate", "cancel", "kill"}) {
    static const std::map<std::string, std::string> help{
        {"pause", "Checkpoint every running trial and free the agents"},
        {"activate", "Queue the paused trials again; they resume from their checkpoints"},
        {"cancel", "End the experiment: running trials checkpoint, then stop"},
        {"kill", "End the experiment now: every trial is stopped at once"}};
    auto* c = exp.add_subcommand(action, help.at(action));
    c->add_option("id", *id, "Experiment ID (or unique prefix)")->required();
    c->callback([&ctx, id, action] { guard([&] { return act(ctx, action, *id); }); });
  }
  auto* del = exp.add_subcommand("delete", "Delete an ended experiment and its trial tasks");
  del->add_option("id", *id, "Experiment ID (or unique prefix)")->required();
  del->callback([&ctx, id] {
    guard([&]() -> Status {
      RH_TRY_ASSIGN(Json r, experiment_call(ctx, "DELETE", "/api/v1/experiments/" + *id));
      std::printf("deleted %s\n", r.value("deleted", "").c_str());
      return {};
    });
  });

  auto* trials = app.add_subcommand("trials", "An experiment's trials");
  trials->require_subcommand(1);
  auto* tl = trials->add_subcommand("list", "The trials of an experiment");
  tl->add_option("experiment", *id, "Experiment ID (or unique prefix)")->required();
  tl->add_flag("--json", *json, "As JSON");
  tl->callback([&ctx, id, json] { guard([&] { return show_experiment(ctx, *id, *json, true); }); });

  auto* cps = app.add_subcommand("checkpoints", "Trials' checkpoints");
  cps->require_subcommand(1);
  auto* cl = cps->add_subcommand("list", "Checkpoints of an experiment or of one trial task");
  cl->add_option("id", *id, "Experiment or trial task ID (or unique prefix)")->required();
  cl->add_flag("--json", *json, "As JSON");
  cl->callback([&ctx, id, json] { guard([&] { return list_checkpoints(ctx, *id, *json); }); });
  auto out = std::make_shared<std::string>();
  auto* cg = cps->add_subcommand("get", "Write a checkpoint's files into a folder");
  cg->add_option("id", *id, "TASK/ID as rh checkpoints list shows")->required();
  cg->add_option("-o,--output", *out, "Folder to write (created)")->required();
  cg->callback([&ctx, id, out] { guard([&] { return get_checkpoint(ctx, *id, *out); }); });
}

}  // namespace rh::cli

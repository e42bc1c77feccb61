// rh experiment create CONFIG [CONTEXT]: checks the config, packs the
// context (stored by digest, so an unchanged one is not sent again) and
// creates the experiment on the server, whose agents run its trials; with
// --follow, prints trial progress until it ends. --local --test runs the
// test mode on this machine instead (experiment/test_mode.h). Also `rh
// experiment searcher`, a config's searcher driven by JSON lines (bench/).
// The commands on existing experiments are in experiments_cmd.cpp.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/experiment_client.h"
#include "roundhouse/client/http_client.h"
#include "roundhouse/experiment/config.h"
#include "roundhouse/experiment/context.h"
#include "roundhouse/experiment/test_mode.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/search/searcher.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

struct CreateFlags {
  std::string config, context, project, queue;
  std::vector<std::string> overrides;
  bool local = false, test = false, paused = false, follow = false;
  double context_limit_mb = 1024;
};

// After a test-mode experiment on the agents ended: its one trial must have
// completed, saved a checkpoint, restored it after the pause at length 1,
// and gone on counting (no series steps back).
Status check_test_run(Context& ctx, HttpClient& http, const std::string& id) {
  RH_TRY_ASSIGN(std::string reply, http.call("GET", "/api/v1/experiments/" + id));
  RH_TRY_ASSIGN(Json e, parse_json(reply, "reply"));
  auto fail = [](const std::string& step, const std::string& why) -> Status {
    return make_error(ErrorCode::invalid_argument, "test mode failed at \"" + step + "\": " + why);
  };
  if (!e.contains("trials") || e["trials"].empty())
    return fail("create the trial", "no trial was created");
  const Json& t = e["trials"][0];
  std::string task = t.value("task_id", "");
  if (t.value("state", "") != "completed")
    return fail("train to length 1, then 2", "the trial ended " + t.value("state", "") + ": " +
                                                 t.value("message", "") + " (rh experiment logs " +
                                                 id.substr(0, 12) + ")");
  if (t.value("latest_checkpoint", "").empty())
    return fail("train to length 1", "no checkpoint was saved");
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  bool restored = false;
  RH_TRY(each_console_line(*store, task, [&](const ConsoleLine& l) {
    restored = restored || l.text.find("the trial restored checkpoint") != std::string::npos;
  }));
  if (!restored)
    return fail("restart from the checkpoint",
                "the trial did not restore its checkpoint (ctx.checkpoint.restore() or "
                "core_context.checkpoint.restore_path())");
  RH_TRY_ASSIGN(auto sums, store->scalars().summaries(task));
  for (const auto& s : sums) {
    RH_TRY_ASSIGN(ScalarSeries pts, store->scalars().read(task, s.title, s.series, {}));
    for (size_t i = 1; i < pts.steps.size(); ++i) {
      if (pts.steps[i] <= pts.steps[i - 1]) {
        return fail("restart from the checkpoint",
                    "series " + s.title + "/" + s.series + " went from step " +
                        std::to_string(pts.steps[i - 1]) + " back to " +
                        std::to_string(pts.steps[i]) + " instead of continuing");
      }
    }
  }
  std::printf("PASS\n");
  return {};
}

Status create_on_server(Context& ctx, const CreateFlags& f) {
  RH_TRY_ASSIGN(std::string url, ctx.server_url());
  RH_TRY_ASSIGN(Config * cfg, ctx.config());
  RH_TRY_ASSIGN(std::string text, read_file(f.config));
  RH_TRY_ASSIGN(experiment::Config c, experiment::parse_config(text, f.config, f.overrides));
  for (const auto& w : c.warnings)
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::string ctx_dir = f.context;
  if (ctx_dir.empty()) {
    auto slash = f.config.rfind('/');
    ctx_dir = slash == std::string::npos ? "." : f.config.substr(0, slash);
  }
  RH_TRY_ASSIGN(BlobStore * blobs, ctx.blobs());
  char tmpl[] = "/tmp/rh-context-XXXXXX";
  if (!::mkdtemp(tmpl))
    return make_error(ErrorCode::io, "cannot create a work folder in /tmp");
  std::string archive = std::string(tmpl) + "/context.tar.zst";
  auto packed = experiment::pack_context(ctx_dir, archive, uint64_t(f.context_limit_mb * 1048576));
  auto cleanup = [&] { (void)remove_all(tmpl); };
  if (!packed) {
    cleanup();
    return std::unexpected(packed.error());
  }
  auto digest = sha256_file(archive);
  if (!digest) {
    cleanup();
    return std::unexpected(digest.error());
  }
  auto missing = blobs->missing({*digest});
  bool send = missing && !missing->empty();
  if (send) {
    if (auto put = blobs->put_file(archive, *digest); !put) {
      cleanup();
      return std::unexpected(put.error());
    }
  }
  cleanup();
  std::fprintf(stderr, "context: %zu files (%s), %s\n", packed->files.size(),
               format_bytes(packed->bytes).c_str(), send ? "sent" : "already stored");
  HttpClient http(url, cfg->api_token);
  Json body{{"config", text},     {"file", f.config},     {"overrides", f.overrides},
            {"context", *digest}, {"project", f.project}, {"queue", f.queue},
            {"paused", f.paused}, {"test", f.test}};
  RH_TRY_ASSIGN(std::string reply, http.call("POST", "/api/v1/experiments", body.dump()));
  RH_TRY_ASSIGN(Json e, parse_json(reply, "reply"));
  std::string id = e.value("id", "");
  // What only the server can tell (the config's own warnings are printed above).
  for (const auto& w : e.value("warnings", Json::array())) {
    if (w.is_string() && std::find(c.warnings.begin(), c.warnings.end(), w) == c.warnings.end())
      std::fprintf(stderr, "warning: %s\n", w.get<std::string>().c_str());
  }
  std::printf("%s\n", id.c_str());
  std::fflush(stdout);
  if (f.test) {
    // The trial runs on an agent; its outcome is the command's.
    auto followed = follow_experiment(http, id, stderr);
    RH_TRY(check_test_run(ctx, http, id));
    return followed;
  }
  if (f.follow)
    return follow_experiment(http, id, stderr);
  return {};
}

Status create_experiment(Context& ctx, const CreateFlags& f) {
  if (!f.local)
    return create_on_server(ctx, f);
  if (!f.test) {
    return make_error(ErrorCode::invalid_argument,
                      "--local runs the test mode only: add --test (experiments run on agents "
                      "through a server)");
  }
  char tmpl[] = "/tmp/rh-experiment-test-XXXXXX";
  if (!::mkdtemp(tmpl))
    return make_error(ErrorCode::io, "cannot create a work folder in /tmp");
  experiment::LocalTestOptions o{f.config, f.context, f.overrides, tmpl,
                                 uint64_t(f.context_limit_mb * 1024 * 1024)};
  Status st = experiment::run_local_test(o, stdout);
  // A failed trial's files are kept for a look; an empty folder is not.
  if (st || ::rmdir(tmpl) == 0)
    (void)remove_all(tmpl);
  else
    std::fprintf(stderr, "rh: the trial's files are kept in %s\n", tmpl);
  return st;
}

Json action_json(const search::Action& a) {
  static const char* kinds[] = {"create", "train", "pause", "stop"};
  Json j{{"action", kinds[int(a.kind)]}, {"trial", a.trial}};
  if (a.kind == search::Action::Kind::create)
    j["hparams"] = a.hparams;
  if (a.kind == search::Action::Kind::create || a.kind == search::Action::Kind::train)
    j["until"] = a.until;
  return j;
}

void print_actions(const std::vector<search::Action>& as) {
  Json arr = Json::array();
  for (const auto& a : as)
    arr.push_back(action_json(a));
  std::cout << arr.dump() << std::endl;
}

// One line of JSON in: {"event": "created"|"validation"|"exited"|"exited_early", "trial": N,
// "units": U, "metric": M, "reason": "errored"|"invalid_hp"|"user_canceled"}; one line out:
// the actions it led to (a JSON array). The first line out is the initial trials.
Status drive_searcher(const std::string& config_path, uint64_t seed) {
  RH_TRY_ASSIGN(std::string text, read_file(config_path));
  RH_TRY_ASSIGN(experiment::Config c, experiment::parse_config(text, config_path));
  RH_TRY_ASSIGN(search::Search s, search::Search::start(c.searcher, c.hyperparameters,
                                                        seed ? seed : (c.seed ? c.seed : 1)));
  print_actions(s.initial_trials());
  std::string line;
  for (int n = 1; std::getline(std::cin, line); ++n) {
    if (line.empty())
      continue;
    std::string where = "stdin line " + std::to_string(n);
    RH_TRY_ASSIGN(Json e, parse_json(line, where));
    std::string event = e.value("event", "");
    int64_t trial = e.value("trial", int64_t(0));
    if (event == "created") {
      print_actions(s.trial_created(trial));
    } else if (event == "validation") {
      print_actions(s.validation(trial, e.value("units", uint64_t(0)), e.value("metric", 0.0)));
    } else if (event == "exited") {
      print_actions(s.trial_exited(trial));
    } else if (event == "exited_early") {
      std::string why = e.value("reason", "errored");
      auto reason = why == "invalid_hp"      ? search::ExitReason::invalid_hp
                    : why == "user_canceled" ? search::ExitReason::user_canceled
                                             : search::ExitReason::errored;
      print_actions(s.trial_exited_early(trial, reason));
    } else {
      return make_error(ErrorCode::invalid_argument,
                        where + ": event must be created, validation, exited or exited_early");
    }
  }
  return {};
}

}  // namespace

void add_experiment_commands(CLI::App& app, Context& ctx) {
  auto* exp =
      app.add_subcommand("experiment", "Hyperparameter searches (Determined-style configs)");
  exp->require_subcommand(1);
  auto f = std::make_shared<CreateFlags>();
  auto* create = exp->add_subcommand("create", "Create an experiment (or run its test mode)");
  create->add_option("config", f->config, "Experiment config (YAML)")->required();
  create->add_option("context", f->context, "Context folder (default: the config's folder)");
  create->add_option("--config", f->overrides, "Override a key: key.path=value (repeatable)");
  create->add_option("--project", f->project, "Project (default: the config's, else default)");
  create->add_option("--queue", f->queue,
                     "Queue the trials go to (default: resources.resource_pool, else default)");
  create->add_flag("--paused", f->paused, "Create it paused: no trial runs until activated");
  create->add_flag("--follow", f->follow, "Print trial progress until the experiment ends");
  create->add_flag("--local", f->local, "On this machine, no server or agent");
  create->add_flag("--test", f->test, "Test mode: one short trial, checkpoint saved and restored");
  create->add_option("--context-limit-mb", f->context_limit_mb,
                     "Largest context to pack, in MiB (default 1024)");
  create->callback([f, &ctx] { guard([&] { return create_experiment(ctx, *f); }); });

  auto cfg = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(0);
  auto* drive = exp->add_subcommand(
      "searcher", "Drive a config's searcher by events on stdin; actions on stdout (JSON lines)");
  drive->add_option("config", *cfg, "Experiment config (YAML)")->required();
  drive->add_option("--seed", *seed, "Random seed (default: the config's, else 1)");
  drive->callback([cfg, seed] { guard([&] { return drive_searcher(*cfg, *seed); }); });
  add_experiment_manage_commands(*exp, app, ctx);
}

}  // namespace rh::cli

// rh experiment create CONFIG [CONTEXT] --local --test: checks an
// experiment's config and runs its test mode on this machine
// (experiment/test_mode.h). Experiments run by agents through a server are
// not built yet; without --local --test the command says so.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/experiment/config.h"
#include "roundhouse/experiment/test_mode.h"
#include "roundhouse/search/searcher.h"
#include "roundhouse/util/fs.h"

namespace rh::cli {

namespace {

struct CreateFlags {
  std::string config, context;
  std::vector<std::string> overrides;
  bool local = false, test = false;
  double context_limit_mb = 1024;
};

Status create_experiment(const CreateFlags& f) {
  if (!(f.local && f.test)) {
    return make_error(ErrorCode::invalid_argument,
                      "rh experiment create: only test mode on this machine (--local --test) runs "
                      "yet; experiments on agents through a server are not built yet");
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
  auto* create = exp->add_subcommand("create", "Check a config and run its test mode");
  create->add_option("config", f->config, "Experiment config (YAML)")->required();
  create->add_option("context", f->context, "Context folder (default: the config's folder)");
  create->add_option("--config", f->overrides, "Override a key: key.path=value (repeatable)");
  create->add_flag("--local", f->local, "On this machine, no server or agent");
  create->add_flag("--test", f->test, "Test mode: one short trial, checkpoint saved and restored");
  create->add_option("--context-limit-mb", f->context_limit_mb,
                     "Largest context to pack, in MiB (default 1024)");
  create->callback([f] { guard([&] { return create_experiment(*f); }); });

  auto cfg = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(0);
  auto* drive = exp->add_subcommand(
      "searcher", "Drive a config's searcher by events on stdin; actions on stdout (JSON lines)");
  drive->add_option("config", *cfg, "Experiment config (YAML)")->required();
  drive->add_option("--seed", *seed, "Random seed (default: the config's, else 1)");
  drive->callback([cfg, seed] { guard([&] { return drive_searcher(*cfg, *seed); }); });
  (void)ctx;
}

}  // namespace rh::cli

// rh experiment create CONFIG [CONTEXT] --local --test: checks an
// experiment's config and runs its test mode on this machine
// (experiment/test_mode.h). Experiments run by agents through a server are
// not built yet; without --local --test the command says so.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/experiment/test_mode.h"
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
  (void)ctx;
}

}  // namespace rh::cli

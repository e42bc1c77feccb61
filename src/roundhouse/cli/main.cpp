#include "roundhouse/cli/main.h"

#include <CLI/CLI.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/version.h"

namespace rh::cli {

int run_main(int argc, char** argv) {
  Context ctx;
  CLI::App app{"rh: record, compare and rerun machine-learning work"};
  app.set_version_flag("--version", k_version);
  app.add_option("--data-dir", ctx.data_dir_flag,
                 "Folder of the embedded store (default ~/.roundhouse, or RH_DATA_DIR)");
  app.require_subcommand(1);
  // Global options are accepted after the subcommand too (`rh server
  // --data-dir D`): subcommands made after this inherit fallthrough.
  app.fallthrough();
  add_server_command(app, ctx);
  add_run_command(app, ctx);
  add_tasks_commands(app, ctx);
  add_artifacts_commands(app, ctx);
  add_import_command(app, ctx);
  add_queues_commands(app, ctx);
  add_remote_task_commands(app, ctx);
  add_agent_command(app, ctx);
  add_data_commands(app, ctx);
  add_experiment_commands(app, ctx);
  add_pipeline_commands(app, ctx);
  add_track_commands(app, ctx);
  add_sync_commands(app, ctx);
  add_metrics_commands(app, ctx);
  add_plots_commands(app, ctx);
  add_pipelines_commands(app, ctx);
  add_schedules_commands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace rh::cli

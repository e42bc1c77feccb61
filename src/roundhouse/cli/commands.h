// Command groups register themselves on the CLI11 app; each file parses,
// calls the library, prints.
#pragma once

namespace CLI {
class App;
}

namespace rh::cli {

class Context;

void add_server_command(CLI::App& app, Context& ctx);
void add_run_command(CLI::App& app, Context& ctx);
void add_tasks_commands(CLI::App& app, Context& ctx);
void add_artifacts_commands(CLI::App& app, Context& ctx);
void add_import_command(CLI::App& app, Context& ctx);
void add_queues_commands(CLI::App& app, Context& ctx);
// After add_tasks_commands: adds clone/edit/enqueue/dequeue/abort to `rh tasks`.
void add_remote_task_commands(CLI::App& app, Context& ctx);
void add_agent_command(CLI::App& app, Context& ctx);
void add_data_commands(CLI::App& app, Context& ctx);
void add_experiment_commands(CLI::App& app, Context& ctx);
// pipeline_cmd.cpp: `rh stage list`, `rh dag`.
void add_pipeline_commands(CLI::App& app, Context& ctx);
// track_cmd.cpp: `rh add`, `rh checkout`.
void add_track_commands(CLI::App& app, Context& ctx);
// sync_cmd.cpp: `rh remote`, `rh push`, `rh pull`, `rh fetch`.
void add_sync_commands(CLI::App& app, Context& ctx);
// metrics_cmd.cpp: `rh metrics show|diff`, `rh params diff`.
void add_metrics_commands(CLI::App& app, Context& ctx);
// pipelines_cmd.cpp: `rh pipelines run|list|show` (task pipelines).
void add_pipelines_commands(CLI::App& app, Context& ctx);
// schedules_cmd.cpp: `rh schedules next`.
void add_schedules_commands(CLI::App& app, Context& ctx);
// plots_cmd.cpp: `rh plots show|diff`.
void add_plots_commands(CLI::App& app, Context& ctx);
// experiments_cmd.cpp: list/show/pause/activate/cancel/kill/delete under
// `rh experiment`, plus `rh trials` and `rh checkpoints`.
void add_experiment_manage_commands(CLI::App& experiment, CLI::App& app, Context& ctx);

}  // namespace rh::cli

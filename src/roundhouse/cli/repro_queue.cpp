// rh repro --queue Q and rh repro --collect: the submitter's half of stages
// run on agents (queued_stages.h).
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "roundhouse/cli/context.h"
#include "roundhouse/cli/pipeline_here.h"
#include "roundhouse/cli/queued_stages.h"
#include "roundhouse/cli/sync_here.h"
#include "roundhouse/flow/task_dag.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/sync.h"
#include "roundhouse/run/capture.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

// Where the last run submitted from this repository is remembered.
std::string last_run_file(const pipeline::Project& p) {
  return p.layout.tmp() + "/queued-run";
}

// A completed stage's results into this workspace: its lock entry, and its
// outs from the remote the run used.
Status collect_stage(Context& ctx, pipeline::Project& p, const Task& t) {
  RH_TRY_ASSIGN(pipeline::Lock theirs,
                pipeline::parse_lock("task " + t.id, configuration_value(t, "lock_entry")));
  const pipeline::StageLock* entry = theirs.find(t.name);
  if (!entry)
    return make_error(
        ErrorCode::corrupt,
        "task " + t.id + " completed without the lock entry of stage '" + t.name + "'");
  RH_TRY(pipeline::put_lock_entry(p, *entry));
  RH_TRY_ASSIGN(
      SyncHere remote,
      open_remote_spec(ctx, pipeline::remote_spec("run", configuration_value(t, "remote"))));
  RH_TRY_ASSIGN(auto outs, pipeline::workspace_data(p.layout, &p, {t.name}));
  // Outs without `cache` came through the remote too; they land as plain
  // files (copies), as the stage would have written them here.
  for (const auto& s : p.dag.stages)
    if (s.name == t.name)
      for (auto& e : pipeline::uncached_outs(s, *p.lock.find(t.name))) {
        e.persist = true;  // checked out as a writable copy
        outs.push_back(std::move(e));
      }
  RH_TRY_ASSIGN(auto got, pipeline::fetch_entries(outs, p.layout.cache(), *remote.remote, {}));
  if (!got.unavailable.empty())
    return make_error(
        ErrorCode::not_found,
        "the remote lacks the outs " + join(got.unavailable, ", ") + " of stage '" + t.name + "'");
  for (const auto& e : outs)
    RH_TRY(pipeline::checkout_entry(p.layout.cache(), e.lp, p.root + "/" + e.rel, p.hashes.get(),
                                    e.persist));
  return {};
}

// What the stages of run `run_id` have done: prints each change, collects
// each newly completed stage; `collected` carries over between calls.
// Returns the run's task as it is now.
Result<Task> follow(Context& ctx, MetadataStore& store, pipeline::Project& p,
                    const std::string& run_id, std::map<std::string, TaskStatus>& seen,
                    std::set<std::string>& collected) {
  RH_TRY_ASSIGN(Task run, store.tasks().get(run_id));
  RH_TRY_ASSIGN(auto steps, flow::children_of(store, run_id));
  for (const auto& s : steps) {
    auto it = seen.find(s.id);
    if (it == seen.end() || it->second != s.status) {
      seen[s.id] = s.status;
      std::string where = runtime_value(s, "worker");
      if (s.status == TaskStatus::running)
        std::printf("Stage '%s' running on %s (task %s)\n", s.name.c_str(),
                    where.empty() ? "an agent" : where.c_str(), s.id.c_str());
      else if (s.status == TaskStatus::failed || s.status == TaskStatus::aborted)
        std::printf("Stage '%s' %s: %s\n", s.name.c_str(), std::string(to_string(s.status)).c_str(),
                    s.status_message.c_str());
      std::fflush(stdout);
    }
    if (s.status != TaskStatus::completed || collected.count(s.id))
      continue;
    RH_TRY_ASSIGN(Task full, store.tasks().get(s.id));
    RH_TRY(collect_stage(ctx, p, full));
    collected.insert(s.id);
    std::printf("Stage '%s' completed on %s (fetched %s, pushed %s there)\n", s.name.c_str(),
                runtime_value(full, "worker").c_str(),
                format_bytes(std::stoull("0" + runtime_value(full, "fetched_bytes"))).c_str(),
                format_bytes(std::stoull("0" + runtime_value(full, "pushed_bytes"))).c_str());
    std::fflush(stdout);
  }
  return run;
}

Result<pipeline::Project> here_project() {
  RH_TRY_ASSIGN(PipelineHere here, pipeline_here());
  return pipeline::open_project(here.root, here.file);
}

}  // namespace

Status repro_on_agents(Context& ctx, const QueueFlags& f) {
  RH_TRY_ASSIGN(Config * config, ctx.config());
  if (config->server.empty())
    return make_error(ErrorCode::invalid_argument,
                      "rh repro --queue runs stages on agents through a server: set RH_SERVER "
                      "(or `server` in the config)");
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(pipeline::Project p, here_project());

  // What must run, as --dry decides it (downstream of a change included).
  pipeline::ReproOptions dry;
  dry.targets = f.targets;
  dry.force = f.force;
  dry.single = f.single;
  dry.downstream = f.downstream;
  dry.dry = true;
  RH_TRY_ASSIGN(pipeline::ReproResult would, pipeline::repro(p, dry));
  pipeline::save_hashes(p);
  if (would.ran.empty()) {
    std::printf("Data and pipelines are up to date.\n");
    return {};
  }

  // The data moves through the remote named (or the default one), else the
  // server itself.
  RH_TRY_ASSIGN(auto remotes, pipeline::read_remote_config(p.root));
  pipeline::RemoteSpec spec;
  if (auto picked = remotes.pick(f.remote)) {
    spec = *picked;
  } else if (f.remote.empty() && picked.error().code == ErrorCode::not_found) {
    spec = pipeline::remote_spec("server", config->server);
  } else {
    return std::unexpected(picked.error());
  }
  RH_TRY_ASSIGN(SyncHere remote, open_remote_spec(ctx, spec));
  // What the stages will read: tracked data and the outs of the stages that
  // stay as they are (the outs of those about to run would be replaced).
  std::set<std::string> rerun;
  for (const auto& name : would.ran)
    rerun.insert("stage '" + name + "'");
  RH_TRY_ASSIGN(auto data, pipeline::workspace_data(p.layout, &p, {}));
  std::erase_if(data, [&](const pipeline::DataEntry& e) {
    return !e.push || (e.stage_out && rerun.count(e.source));
  });
  RH_TRY_ASSIGN(auto pushed, pipeline::push_entries(data, p.layout.cache(), *remote.remote, {}));
  std::printf("Pushed %llu objects (%s) to '%s'\n", static_cast<unsigned long long>(pushed.sent),
              format_bytes(pushed.bytes).c_str(), spec.name.c_str());
  if (!pushed.unavailable.empty())
    std::fprintf(stderr,
                 "rh: warning: the cache here lacks the data of %s (run `rh pull` first?); the "
                 "stages that read it will fail on the agents unless '%s' has it\n",
                 join(pushed.unavailable, ", ").c_str(), spec.name.c_str());

  Script code = capture_script({"sh", "-c", "rh repro"}, p.root);
  // What the agents install into the stages' environment, as for any task:
  // the repository's requirements.txt, when it has one.
  Environment environment;
  if (auto req = read_file(p.root + "/requirements.txt"))
    environment.requirements = *req;
  std::string project = f.project.empty() ? basename_of(p.root) : f.project;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < p.dag.stages.size(); ++i)
    index[p.dag.stages[i].name] = i;
  std::set<std::string> running(would.ran.begin(), would.ran.end());
  Json dag = Json::array();
  for (const auto& name : would.ran) {
    Json after = Json::array();
    for (size_t a : p.dag.after[index[name]])
      if (running.count(p.dag.stages[a].name))
        after.push_back(p.dag.stages[a].name);
    dag.push_back({{"name", name}, {"after", after}});
  }

  NewTask rt;
  rt.project = project;
  rt.name = p.file.path;
  rt.type = TaskType::controller;
  rt.tags = {flow::k_dag_tag};
  rt.script = code;
  rt.script.entry_point = "rh repro --queue " + f.queue;
  rt.script.working_dir = ".";
  rt.configurations.push_back({"dag", Json{{"stages", dag}}.dump(), "the stages and their order"});
  RH_TRY_ASSIGN(Task run, store->tasks().create(rt));
  RH_TRY(store->tasks().set_status(run.id, TaskStatus::running, ""));
  std::string lock = pipeline::lock_text(p.lock);
  std::map<std::string, std::string> task_of;
  for (const auto& step : dag) {
    std::string name = step["name"].get<std::string>();
    std::vector<std::string> after;
    for (const auto& a : step["after"])
      after.push_back(task_of[a.get<std::string>()]);
    NewTask t;
    t.project = project;
    t.name = name;
    t.type = TaskType::data_processing;
    t.tags = {"pipeline"};
    t.parent = run.id;
    t.comment = p.dag.stages[index[name]].desc;
    t.script = code;
    t.script.entry_point = "rh stage exec " + name;
    t.script.working_dir = ".";
    t.script.argv = {"rh", "stage", "exec", name};
    t.environment = environment;
    t.configurations.push_back({"lock", lock, "the lock when the run was submitted"});
    t.configurations.push_back({"remote", spec.location, "where the stage's data moves"});
    RH_TRY_ASSIGN(Task task, store->tasks().create(t));
    TaskPatch patch;
    patch.runtime = std::map<std::string, std::string>{{flow::k_dag_queue, f.queue},
                                                       {flow::k_dag_after, join(after, ",")},
                                                       {"stage", name},
                                                       {"pipeline", p.file.path}};
    RH_TRY(store->tasks().update(task.id, patch));
    task_of[name] = task.id;
  }
  // Every step exists: the server may start it.
  TaskPatch start;
  start.runtime = std::map<std::string, std::string>{
      {flow::k_dag_run, "1"}, {flow::k_dag_jobs, std::to_string(std::max(0, f.jobs))}};
  RH_TRY(store->tasks().update(run.id, start));
  RH_TRY(make_dirs(p.layout.tmp()));
  RH_TRY(write_file_atomic(last_run_file(p), run.id + "\n"));
  std::printf("Submitted %zu stages to queue '%s' as run %s\n", would.ran.size(), f.queue.c_str(),
              run.id.c_str());
  std::fflush(stdout);
  if (!f.wait) {
    std::printf("`rh repro --collect` brings the results of the stages that completed.\n");
    return {};
  }
  std::map<std::string, TaskStatus> seen;
  std::set<std::string> collected;
  for (;;) {
    RH_TRY_ASSIGN(Task now, follow(ctx, *store, p, run.id, seen, collected));
    if (is_final(now.status)) {
      // What ended between the last look and the run's end.
      RH_TRY(follow(ctx, *store, p, run.id, seen, collected));
      if (now.status != TaskStatus::completed) {
        std::fprintf(stderr, "rh: run %s %s: %s\n", run.id.c_str(),
                     std::string(to_string(now.status)).c_str(), now.status_message.c_str());
        std::exit(1);
      }
      std::printf("Updated %s.\n", p.lock_path.c_str());
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

Status collect_run(Context& ctx, const std::string& run_id) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(pipeline::Project p, here_project());
  std::string id = run_id;
  if (id.empty()) {
    auto saved = read_file(last_run_file(p));
    if (!saved)
      return make_error(ErrorCode::not_found,
                        "no run was submitted from here with `rh repro --queue`; name one");
    id = std::string(trim(*saved));
  } else {
    RH_TRY_ASSIGN(id, ctx.resolve_task(id));
  }
  std::map<std::string, TaskStatus> seen;
  std::set<std::string> collected;
  RH_TRY_ASSIGN(Task run, follow(ctx, *store, p, id, seen, collected));
  std::vector<std::string> pending;
  for (const auto& [task, st] : seen)
    if (!is_final(st))
      pending.push_back(task);
  if (!pending.empty())
    std::printf("%zu stages still queued or running; run `rh repro --collect` again later.\n",
                pending.size());
  else
    std::printf("Run %s %s.\n", run.id.c_str(), std::string(to_string(run.status)).c_str());
  return {};
}

}  // namespace rh::cli

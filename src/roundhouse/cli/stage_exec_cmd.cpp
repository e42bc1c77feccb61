// rh stage exec NAME: one stage of a `rh repro --queue` run, on the agent
// that took its task (queued_stages.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/context.h"
#include "roundhouse/cli/pipeline_here.h"
#include "roundhouse/cli/queued_stages.h"
#include "roundhouse/cli/stage_tasks.h"
#include "roundhouse/cli/sync_here.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/pipeline/sync.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

namespace fs = std::filesystem;

// Whether the data at `rel` is what dep `dep` reads: the same path, inside
// it, or a folder around it.
bool feeds(const std::string& rel, const std::string& dep) {
  return rel == dep || rel.starts_with(dep + "/") || dep.starts_with(rel + "/");
}

Status stage_exec(Context& ctx, const std::string& name) {
  const char* task_env = std::getenv("RH_TASK_ID");
  if (!task_env || !*task_env)
    return make_error(ErrorCode::invalid_argument,
                      "rh stage exec runs a stage of `rh repro --queue` on an agent (RH_TASK_ID "
                      "is not set)");
  std::string task_id = task_env;
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(Task task, store->tasks().get(task_id));
  std::string lock = configuration_value(task, "lock");
  std::string where = configuration_value(task, "remote");
  if (where.empty())
    return make_error(ErrorCode::invalid_argument,
                      "task " + task_id + " names no remote (configuration 'remote')");

  RH_TRY_ASSIGN(PipelineHere here, pipeline_here());
  // The submitter's lock, with what the stages before this one wrote.
  std::string lock_path = here.root + "/" + pipeline::lock_path_for(here.file);
  RH_TRY_ASSIGN(pipeline::Lock merged, pipeline::parse_lock("the run's lock", lock));
  for (const auto& id : split(runtime_value(task, "dag_after"), ',')) {
    if (id.empty())
      continue;
    RH_TRY_ASSIGN(Task before, store->tasks().get(id));
    RH_TRY_ASSIGN(pipeline::Lock theirs,
                  pipeline::parse_lock("task " + id, configuration_value(before, "lock_entry")));
    for (const auto& e : theirs.stages)
      merged.put(e);
  }
  RH_TRY(write_file_atomic(lock_path, pipeline::lock_text(merged)));

  // The cache the agent keeps between tasks, in place of the workspace's.
  pipeline::RepoLayout layout = pipeline::repo_layout(here.root, here.file.ends_with("dvc.yaml"));
  if (const char* kept = std::getenv("RH_PIPELINE_CACHE"); kept && *kept) {
    RH_TRY(make_dirs(kept));
    RH_TRY(make_dirs(dirname_of(layout.cache())));
    if (!path_exists(layout.cache())) {
      std::error_code ec;
      fs::create_directory_symlink(kept, layout.cache(), ec);
      if (ec)
        return make_error(ErrorCode::io, "cannot link " + layout.cache() + ": " + ec.message());
    }
  }
  RH_TRY_ASSIGN(pipeline::Project p, pipeline::open_project(here.root, here.file));
  const pipeline::Stage* stage = nullptr;
  for (const auto& s : p.dag.stages)
    if (s.name == name)
      stage = &s;
  if (!stage)
    return make_error(ErrorCode::not_found, "no stage '" + name + "' in " + here.file);

  // Only the objects of this stage's deps that the cache lacks.
  RH_TRY_ASSIGN(SyncHere remote, open_remote_spec(ctx, pipeline::remote_spec("run", where)));
  RH_TRY_ASSIGN(auto all, pipeline::workspace_data(p.layout, &p, {}));
  std::vector<pipeline::DataEntry> needed;
  for (const auto& e : all)
    for (const auto& d : stage->deps)
      if (feeds(e.rel, d.rel)) {
        needed.push_back(e);
        break;
      }
  RH_TRY_ASSIGN(auto got, pipeline::fetch_entries(needed, p.layout.cache(), *remote.remote, {}));
  if (!got.unavailable.empty())
    return make_error(ErrorCode::not_found, "the remote lacks the data of " +
                                                join(got.unavailable, ", ") + " (" + where + ")");
  for (const auto& e : needed)
    RH_TRY(pipeline::checkout_entry(p.layout.cache(), e.lp, p.root + "/" + e.rel, p.hashes.get(),
                                    e.persist));
  std::printf("rh: fetched %llu objects (%s) for stage '%s'\n",
              static_cast<unsigned long long>(got.sent), format_bytes(got.bytes).c_str(),
              name.c_str());

  StageTasks record(*store, ctx.env, p, task.project, task_id);
  pipeline::ReproOptions o;
  o.targets = {name};
  o.single = true;
  o.force = true;  // the submitter found it must run
  o.observer = &record;
  o.say = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  auto result = pipeline::repro(p, o);
  pipeline::save_hashes(p);
  RH_TRY_ASSIGN(pipeline::ReproResult r, std::move(result));
  if (!r.failed.empty())
    return make_error(ErrorCode::conflict, "stage '" + name + "' failed");
  const pipeline::StageLock* entry = p.lock.find(name);
  if (!entry)
    return make_error(ErrorCode::internal, "stage '" + name + "' ran but left no lock entry");

  RH_TRY_ASSIGN(auto outs, pipeline::workspace_data(p.layout, &p, {name}));
  std::erase_if(outs, [](const pipeline::DataEntry& e) { return !e.push; });
  // Outs without `cache` (metrics, plots) go back through the remote too:
  // into this cache first, as any object.
  for (auto& e : pipeline::uncached_outs(*stage, *entry)) {
    RH_TRY(pipeline::hash_into_cache(p.root + "/" + e.rel, p.layout.cache(), p.hashes.get()));
    outs.push_back(std::move(e));
  }
  RH_TRY_ASSIGN(auto sent, pipeline::push_entries(outs, p.layout.cache(), *remote.remote, {}));
  std::printf("rh: pushed %llu objects (%s) of stage '%s'\n",
              static_cast<unsigned long long>(sent.sent), format_bytes(sent.bytes).c_str(),
              name.c_str());
  pipeline::Lock mine;
  mine.put(*entry);
  RH_TRY(store->tasks().set_configuration(
      task_id, {"lock_entry", pipeline::lock_text(mine), "the stage's lock entry after the run"}));
  TaskPatch patch;
  patch.runtime = std::map<std::string, std::string>{{"fetched_objects", std::to_string(got.sent)},
                                                     {"fetched_bytes", std::to_string(got.bytes)},
                                                     {"pushed_objects", std::to_string(sent.sent)},
                                                     {"pushed_bytes", std::to_string(sent.bytes)}};
  RH_TRY(store->tasks().update(task_id, patch));
  return {};
}

}  // namespace

void add_stage_exec_command(CLI::App& stage, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto* c = stage.add_subcommand("exec", "Run one stage of `rh repro --queue` (on an agent)");
  c->add_option("name", *name, "The stage")->required();
  c->callback([name, &ctx] { guard([&] { return stage_exec(ctx, *name); }); });
}

}  // namespace rh::cli

// rh stage list [TARGET...] [--name-only]; rh dag [TARGET] [--dot|--mermaid|--md];
// rh status [TARGET...] [--json] [-q]; rh repro [TARGET...] [-j N] [-f] [-s]
// [--downstream] [--dry] [--keep-going] [--pull] [--project P] [--queue Q [--no-wait] [-r R]]
// [--collect [RUN]] (on agents: queued_stages.h); rh stage exec NAME: the pipeline of the current
// folder (rh.yaml, else dvc.yaml), paths from the repository's top (the folder holding .git, or
// .dvc, else the current one). With RH_SERVER set, repro records its run and each stage it ran as
// tasks (stage_tasks.h).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/pipeline_here.h"
#include "roundhouse/cli/queued_stages.h"
#include "roundhouse/cli/stage_tasks.h"
#include "roundhouse/cli/sync_here.h"
#include "roundhouse/cli/track_here.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/dag.h"
#include "roundhouse/pipeline/repro.h"
#include "roundhouse/pipeline/sync.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

using Here = PipelineHere;

Result<pipeline::PipelineFile> load_file(Here& here) {
  RH_TRY_ASSIGN(here, pipeline_here());
  RH_TRY_ASSIGN(pipeline::PipelineFile pf, pipeline::load_pipeline_file(here.root, here.file));
  for (const auto& w : pf.warnings)
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  return pf;
}

Result<pipeline::Dag> load_dag(Here& here) {
  RH_TRY_ASSIGN(pipeline::PipelineFile pf, load_file(here));
  std::string file = pf.path;
  auto dag = pipeline::build_dag(std::move(pf.stages));
  if (!dag)
    return make_error(dag.error().code, file + ": " + dag.error().message);
  return dag;
}

// DVC's description: the desc's first line, else what the stage writes and reads.
std::string describe(const pipeline::Stage& s) {
  std::string d = s.desc.substr(0, s.desc.find('\n'));
  if (d.empty()) {
    std::vector<std::string> outs, reports, deps;
    for (const auto& o : s.outs)
      (o.kind == pipeline::Out::Kind::out ? outs : reports).push_back(o.path);
    for (const auto& dep : s.deps)
      deps.push_back(dep.path);
    if (s.outs.empty() && s.deps.empty())
      d = "No outputs or dependencies";
    else if (s.outs.empty())
      d = "Depends on " + join(deps, ", ");
    else {
      if (!outs.empty())
        d = "Outputs " + join(outs, ", ");
      if (!reports.empty())
        d += (d.empty() ? "" : "; ") + std::string("Reports ") + join(reports, ", ");
    }
  }
  if (d.size() > 80)
    d = d.substr(0, 79) + "…";
  return d;
}

struct ListFlags {
  std::vector<std::string> targets;
  bool name_only = false;
};

Status stage_list(const ListFlags& f) {
  // As `dvc stage list`: the file's stages in its order, the graph unchecked.
  Here here;
  RH_TRY_ASSIGN(pipeline::PipelineFile pf, load_file(here));
  pipeline::Dag dag;
  dag.stages = std::move(pf.stages);
  std::vector<size_t> pick;
  for (size_t i = 0; i < dag.stages.size(); ++i) {
    bool named = f.targets.empty();
    for (const auto& t : f.targets)
      named = named || dag.stages[i].name == t || dag.stages[i].group == t;
    if (named)
      pick.push_back(i);
  }
  for (const auto& t : f.targets) {
    bool found = false;
    for (const auto& s : dag.stages)
      found = found || s.name == t || s.group == t;
    if (!found)
      return make_error(ErrorCode::not_found, "no stage '" + t + "' in " + pf.path);
  }
  size_t width = 0;
  for (size_t i : pick)
    width = std::max(width, dag.stages[i].name.size());
  for (size_t i : pick) {
    const auto& s = dag.stages[i];
    if (f.name_only)
      std::printf("%s\n", s.name.c_str());
    else
      std::printf("%-*s  %s\n", int(width), s.name.c_str(), describe(s).c_str());
  }
  return {};
}

struct DagFlags {
  std::string target;
  bool dot = false, mermaid = false, md = false, outs = false;
};

Status dag_cmd(const DagFlags& f) {
  Here here;
  RH_TRY_ASSIGN(pipeline::Dag dag, load_dag(here));
  std::vector<size_t> pick;
  if (f.target.empty()) {
    pick = dag.order;
  } else {
    RH_TRY_ASSIGN(pick, pipeline::select_stages(dag, {f.target}, false, false));
  }
  std::vector<bool> in(dag.stages.size(), false);
  for (size_t i : pick)
    in[i] = true;
  auto quote = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s)
      out += c == '"' ? std::string("\\\"") : std::string(1, c);
    return out + "\"";
  };
  if (f.dot) {
    // As `dvc dag --dot` writes it: nodes in the file's order, then edges by
    // their source, then their target, in that order.
    std::printf("strict digraph {\n");
    for (size_t i = 0; i < dag.stages.size(); ++i)
      if (in[i])
        std::printf("%s;\n", quote(dag.stages[i].name).c_str());
    for (size_t a = 0; a < dag.stages.size(); ++a)
      for (size_t b = 0; b < dag.stages.size(); ++b)
        if (in[a] && in[b] &&
            std::find(dag.after[b].begin(), dag.after[b].end(), a) != dag.after[b].end())
          std::printf("%s -> %s;\n", quote(dag.stages[a].name).c_str(),
                      quote(dag.stages[b].name).c_str());
    std::printf("}\n\n");
    return {};
  }
  if (f.mermaid || f.md) {
    if (f.md)
      std::printf("```mermaid\n");
    std::printf("flowchart TD\n");
    for (size_t k = 0; k < pick.size(); ++k)
      std::printf("\tnode%zu[%s]\n", pick[k] + 1, quote(dag.stages[pick[k]].name).c_str());
    for (size_t b : pick)
      for (size_t a : dag.after[b])
        if (in[a])
          std::printf("\tnode%zu-->node%zu\n", a + 1, b + 1);
    if (f.md)
      std::printf("```\n");
    return {};
  }
  // Plain text: each stage in order with what it comes after.
  for (size_t b : pick) {
    std::vector<std::string> before;
    for (size_t a : dag.after[b])
      if (in[a])
        before.push_back(dag.stages[a].name);
    std::printf("%s%s%s\n", dag.stages[b].name.c_str(), before.empty() ? "" : "  <- ",
                join(before, ", ").c_str());
  }
  return {};
}

Result<pipeline::Project> project(Here& here) {
  RH_TRY_ASSIGN(here, pipeline_here());
  return pipeline::open_project(here.root, here.file);
}

struct StatusFlags {
  std::vector<std::string> targets;
  bool json = false, quiet = false, cloud = false;
  std::string remote;
};

Status status_cmd(Context& ctx, const StatusFlags& f) {
  if (f.cloud || !f.remote.empty())
    return cloud_status(ctx, f.targets, f.remote, f.json, f.quiet);
  Here here;
  RH_TRY_ASSIGN(pipeline::Project p, project(here));
  RH_TRY_ASSIGN(std::vector<size_t> pick, pipeline::select_stages(p.dag, f.targets, false, false));
  // Stages are looked at side by side (a stat per file is most of the work).
  std::vector<pipeline::StageStatus> all(pick.size());
  RH_TRY(parallel_for(pick.size(), [&](size_t k) -> Status {
    RH_TRY_ASSIGN(all[k], pipeline::stage_status(p, p.dag.stages[pick[k]]));
    return {};
  }));
  std::vector<pipeline::StageStatus> changed;
  for (auto& st : all) {
    if (st.changed())
      changed.push_back(std::move(st));
  }
  pipeline::save_hashes(p);
  if (f.json) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& st : changed) {
      nlohmann::json list = nlohmann::json::array();
      if (st.never_run)
        list.push_back("never run");
      if (st.always)
        list.push_back("always changed");
      if (st.command)
        list.push_back("changed command");
      nlohmann::json deps = nlohmann::json::object(), outs = nlohmann::json::object();
      for (const auto& [path, what] : st.deps)
        deps[path] = what;
      for (const auto& [file, what] : st.params)
        deps[file] = what;
      for (const auto& [path, what] : st.outs)
        outs[path] = what;
      if (!deps.empty())
        list.push_back({{"changed deps", deps}});
      if (!outs.empty())
        list.push_back({{"changed outs", outs}});
      out[st.stage] = list;
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else if (!f.quiet) {
    if (changed.empty())
      std::printf("Data and pipelines are up to date.\n");
    for (const auto& st : changed) {
      std::printf("%s:\n", st.stage.c_str());
      if (st.never_run)
        std::printf("\tnever run\n");
      if (!st.deps.empty() || !st.params.empty()) {
        std::printf("\tchanged deps:\n");
        for (const auto& [path, what] : st.deps)
          std::printf("\t\t%-20s%s\n", (what + ":").c_str(), path.c_str());
        for (const auto& [file, what] : st.params)
          std::printf("\t\tparams %s: %s\n", file.c_str(), what.c_str());
      }
      if (!st.outs.empty()) {
        std::printf("\tchanged outs:\n");
        for (const auto& [path, what] : st.outs)
          std::printf("\t\t%-20s%s\n", (what + ":").c_str(), path.c_str());
      }
      if (st.command)
        std::printf("\tchanged command\n");
      if (st.always)
        std::printf("\talways changed\n");
    }
  }
  if (f.quiet && !changed.empty())
    std::exit(1);
  return {};
}

struct ReproFlags {
  std::vector<std::string> targets;
  bool force = false, single = false, downstream = false, dry = false, keep_going = false;
  bool no_run_cache = false, pull = false;
  int jobs = 1;
  std::string project;  // of the tasks recorded with RH_SERVER
  std::string queue, remote, collect_run;
  bool no_wait = false, collect = false, jobs_given = false;
};

// --pull: what the lock names and the cache lacks, from the default remote
// first; a stage whose inputs are the locked ones then checks its outs out
// instead of running.
Status pull_first(Context& ctx) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  RH_TRY_ASSIGN(SyncHere s, sync_here(ctx, h, ""));
  RH_TRY_ASSIGN(auto entries, pipeline::workspace_data(h.layout, h.project.get(), {}));
  RH_TRY_ASSIGN(auto r, pipeline::fetch_entries(entries, h.layout.cache(), *s.remote, {}));
  if (r.sent)
    std::printf("Fetched %llu files (%s) from '%s'\n", static_cast<unsigned long long>(r.sent),
                format_bytes(r.bytes).c_str(), s.spec.name.c_str());
  // Tracked data missing from the workspace is checked out (stage outs are
  // repro's to restore, in order).
  for (const auto& e : entries) {
    if (e.stage_out || path_exists(h.layout.root + "/" + e.rel))
      continue;
    auto c = pipeline::checkout_entry(h.layout.cache(), e.lp, h.layout.root + "/" + e.rel,
                                      h.hashes.get(), e.persist);
    if (c)
      std::printf("A       %s\n", h.shown(e.rel).c_str());
  }
  h.save();
  return {};
}

Status repro_cmd(Context& ctx, const ReproFlags& f) {
  if (f.collect)
    return collect_run(ctx, f.collect_run);
  if (!f.queue.empty()) {
    if (f.dry || f.pull || f.keep_going || f.no_run_cache)
      return make_error(ErrorCode::invalid_argument,
                        "--queue does not take --dry, --pull, --keep-going or --no-run-cache");
    QueueFlags q;
    q.queue = f.queue;
    q.targets = f.targets;
    q.force = f.force;
    q.single = f.single;
    q.downstream = f.downstream;
    q.jobs = f.jobs_given ? f.jobs : 0;
    q.wait = !f.no_wait;
    q.remote = f.remote;
    q.project = f.project;
    return repro_on_agents(ctx, q);
  }
  if (f.no_wait || !f.remote.empty())
    return make_error(ErrorCode::invalid_argument, "--no-wait and -r go with --queue");
  if (f.pull)
    RH_TRY(pull_first(ctx));
  Here here;
  RH_TRY_ASSIGN(pipeline::Project p, project(here));
  pipeline::ReproOptions o;
  o.targets = f.targets;
  o.force = f.force;
  o.single = f.single;
  o.downstream = f.downstream;
  o.dry = f.dry;
  o.keep_going = f.keep_going;
  o.jobs = f.jobs;
  o.no_run_cache = f.no_run_cache;
  o.say = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  // With a server, each stage that runs is recorded as a task (stage_tasks.h).
  std::unique_ptr<StageTasks> tasks;
  RH_TRY_ASSIGN(Config * config, ctx.config());
  if (!config->server.empty() && !f.dry) {
    auto store = ctx.store();
    if (store) {
      tasks = std::make_unique<StageTasks>(**store, ctx.env, p,
                                           f.project.empty() ? basename_of(p.root) : f.project);
      o.observer = tasks.get();
    } else {
      std::fprintf(stderr, "rh: cannot record the pipeline's run as tasks: %s\n",
                   store.error().message.c_str());
    }
  }
  auto result = pipeline::repro(p, o);
  pipeline::save_hashes(p);
  if (tasks) {
    bool ok = result && result->failed.empty();
    tasks->close(ok, !result                  ? result.error().message
                     : result->failed.empty() ? ""
                                              : "failed: " + join(result->failed, ", "));
  }
  RH_TRY_ASSIGN(pipeline::ReproResult r, std::move(result));
  if (!f.dry && r.failed.empty())
    std::printf(r.ran.empty() ? "Data and pipelines are up to date.\n" : "Updated %s.\n",
                p.lock_path.c_str());
  if (!r.failed.empty()) {
    std::fprintf(stderr, "rh: failed: %s%s\n", join(r.failed, ", ").c_str(),
                 r.not_run.empty() ? "" : ("; not run: " + join(r.not_run, ", ")).c_str());
    std::exit(1);
  }
  return {};
}

}  // namespace

void add_pipeline_commands(CLI::App& app, Context& ctx) {
  auto sf = std::make_shared<StatusFlags>();
  auto* status = app.add_subcommand("status", "What changed since the lock, per stage");
  status->add_option("targets", sf->targets, "Stages or groups (default: all)");
  status->add_flag("--json", sf->json, "As JSON");
  status->add_flag("-q,--quiet", sf->quiet, "Print nothing; exit 1 when anything changed");
  status->add_flag("-c,--cloud", sf->cloud, "Compare the cache with the remote instead");
  status->add_option("-r,--remote", sf->remote, "The remote for -c (default: the default)");
  status->callback([sf, &ctx] { guard([&] { return status_cmd(ctx, *sf); }); });

  auto rf = std::make_shared<ReproFlags>();
  auto* repro = app.add_subcommand("repro", "Run the stages whose inputs changed, in order");
  repro->add_option("targets", rf->targets, "Stages or groups (default: all)");
  repro->add_flag("-f,--force", rf->force, "Run them even when nothing changed");
  repro->add_flag("-s,--single-item", rf->single, "Only the targets, not what they need");
  repro->add_flag("--downstream", rf->downstream, "The targets and what depends on them");
  repro->add_flag("--dry", rf->dry, "Show what would run; run nothing");
  repro->add_option("-j,--jobs", rf->jobs, "Stages run at once where the graph allows (default 1)")
      ->check(CLI::Range(1, 256));
  repro->add_flag("--no-run-cache", rf->no_run_cache,
                  "Run stages even when the run cache has their outs for these inputs");
  repro->add_flag("-k,--keep-going", rf->keep_going,
                  "After a failure, run what does not depend on it");
  repro->add_option("--project", rf->project,
                    "With RH_SERVER: the project of the run's tasks (default: the repository "
                    "folder's name)");
  repro->add_flag("--pull", rf->pull,
                  "Fetch what the lock names from the default remote first, so stages whose "
                  "inputs are unchanged check their outs out instead of running");
  repro->add_option("--queue", rf->queue,
                    "Run the stages that must run as tasks on the agents of this queue "
                    "(needs RH_SERVER); -j N: at most N at once (default: as many as agents)");
  repro->add_flag("--no-wait", rf->no_wait,
                  "With --queue: return once submitted; `rh repro --collect` brings the results");
  repro->add_option("-r,--remote", rf->remote,
                    "With --queue: the remote the data moves through (default: the default "
                    "remote, else the server)");
  auto* collect = repro
                      ->add_option("--collect", rf->collect_run,
                                   "Bring the results of a --queue run's completed stages "
                                   "(default: the last run submitted here)")
                      ->expected(0, 1);
  repro->callback([rf, repro, collect, &ctx] {
    rf->collect = collect->count() > 0;
    rf->jobs_given = repro->count("-j") > 0;
    guard([&] { return repro_cmd(ctx, *rf); });
  });

  auto* stage =
      app.add_subcommand("stage", "The stages of the pipeline here (rh.yaml or dvc.yaml)");
  stage->require_subcommand(1);
  add_stage_exec_command(*stage, ctx);
  auto lf = std::make_shared<ListFlags>();
  auto* list = stage->add_subcommand("list", "List the stages, as `dvc stage list`");
  list->add_option("targets", lf->targets, "Stages or groups (default: all)");
  list->add_flag("--name-only,--names-only", lf->name_only, "Only the names");
  list->callback([lf] { guard([&] { return stage_list(*lf); }); });

  auto df = std::make_shared<DagFlags>();
  auto* dag = app.add_subcommand("dag", "The stages' graph, in the order they run");
  dag->add_option("target", df->target, "Only this stage (or group) and what it needs");
  dag->add_flag("--dot", df->dot, "Graphviz dot");
  dag->add_flag("--mermaid", df->mermaid, "Mermaid flowchart");
  dag->add_flag("--md", df->md, "Mermaid in a Markdown code block");
  dag->callback([df] { guard([&] { return dag_cmd(*df); }); });
}

}  // namespace rh::cli

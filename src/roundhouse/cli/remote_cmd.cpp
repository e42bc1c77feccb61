// The task commands of remote execution: rh tasks clone|edit|enqueue|dequeue|abort.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/output.h"
#include "roundhouse/model/json.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/fs.h"

namespace rh::cli {

namespace {

// What `clone` and `edit` change on a draft.
struct Edits {
  std::string name;
  std::vector<std::string> set;      // Section/name=value
  std::vector<std::string> configs;  // name=@file or name=text
  std::string requirements;          // @file or text; empty = unchanged
  bool any() const {
    return !name.empty() || !set.empty() || !configs.empty() || !requirements.empty();
  }
};

Result<std::string> text_or_file(const std::string& v, const std::string& what) {
  if (!v.starts_with("@"))
    return v;
  auto text = read_file(v.substr(1));
  if (!text) {
    return make_error(ErrorCode::invalid_argument,
                      what + ": cannot read " + v.substr(1) + ": " + text.error().message);
  }
  return *text;
}

Status apply_edits(MetadataStore& store, const std::string& id, const Edits& e) {
  RH_TRY_ASSIGN(Task t, store.tasks().get(id));
  if (!e.set.empty()) {
    std::vector<Hyperparameter> params;
    for (const auto& kv : e.set) {
      auto eq = kv.find('=');
      auto slash = kv.find('/');
      if (eq == std::string::npos || slash == std::string::npos || slash > eq || slash == 0 ||
          slash + 1 == eq) {
        return make_error(ErrorCode::invalid_argument,
                          "--set " + kv + ": expected Section/name=value (e.g. Args/lr=0.01)");
      }
      Hyperparameter h{kv.substr(0, slash), kv.substr(slash + 1, eq - slash - 1), kv.substr(eq + 1),
                       "", ""};
      // Keeps the recorded type and description, so the code reads the value as before.
      for (const auto& old : t.hyperparameters) {
        if (old.section == h.section && old.name == h.name) {
          h.type = old.type;
          h.description = old.description;
        }
      }
      params.push_back(std::move(h));
    }
    RH_TRY(store.tasks().set_hyperparameters(id, params, false));
  }
  for (const auto& c : e.configs) {
    auto eq = c.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(ErrorCode::invalid_argument,
                        "--config " + c + ": expected name=@file or name=text");
    }
    Configuration cfg{c.substr(0, eq), "", ""};
    RH_TRY_ASSIGN(cfg.value, text_or_file(c.substr(eq + 1), "--config " + cfg.name));
    for (const auto& old : t.configurations) {
      if (old.name == cfg.name)
        cfg.description = old.description;
    }
    RH_TRY(store.tasks().set_configuration(id, cfg));
  }
  TaskPatch p;
  bool patch = false;
  if (!e.name.empty()) {
    p.name = e.name;
    patch = true;
  }
  if (!e.requirements.empty()) {
    Environment env = t.environment;
    RH_TRY_ASSIGN(env.requirements, text_or_file(e.requirements, "--requirements"));
    p.environment = env;
    patch = true;
  }
  if (patch) {
    RH_TRY(store.tasks().update(id, p));
  }
  return {};
}

void add_edit_options(CLI::App* cmd, Edits& e) {
  cmd->add_option("--set", e.set, "Change a parameter: Section/name=value (repeatable)");
  cmd->add_option("--config", e.configs,
                  "Replace a configuration: name=@file or name=text (repeatable)");
  cmd->add_option("--requirements", e.requirements,
                  "Replace the requirements an agent installs: @file or text");
}

Status clone_draft(Context& ctx, const std::string& ref, const Edits& edits,
                   const std::string& queue, int64_t priority) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string src, ctx.resolve_task(ref));
  RH_TRY_ASSIGN(Task t, clone_task(store->tasks(), src, edits.name, ""));
  Edits rest = edits;
  rest.name.clear();
  RH_TRY(apply_edits(*store, t.id, rest));
  if (!queue.empty()) {
    RH_TRY(store->queues().enqueue(t.id, queue, priority));
  }
  std::printf("%s\n", t.id.c_str());
  std::fprintf(stderr, "rh: cloned %s as %s%s\n", src.substr(0, 12).c_str(),
               t.id.substr(0, 12).c_str(),
               queue.empty() ? " (a draft)" : (" and enqueued it on " + queue).c_str());
  return {};
}

Status edit_draft(Context& ctx, const std::string& ref, const Edits& edits) {
  if (!edits.any())
    return make_error(ErrorCode::invalid_argument,
                      "nothing to change: give --set, --config, --requirements or --name");
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string tid, ctx.resolve_task(ref));
  RH_TRY(apply_edits(*store, tid, edits));
  std::fprintf(stderr, "rh: edited %s\n", tid.substr(0, 12).c_str());
  return {};
}

Status enqueue_task(Context& ctx, const std::string& ref, const std::string& queue,
                    int64_t priority) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string tid, ctx.resolve_task(ref));
  RH_TRY(store->queues().enqueue(tid, queue, priority));
  std::fprintf(stderr, "rh: %s queued on %s\n", tid.substr(0, 12).c_str(), queue.c_str());
  return {};
}

Status dequeue_task(Context& ctx, const std::string& ref) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string tid, ctx.resolve_task(ref));
  RH_TRY(store->queues().dequeue(tid));
  std::fprintf(stderr, "rh: %s dequeued\n", tid.substr(0, 12).c_str());
  return {};
}

Status abort_task(Context& ctx, const std::string& ref) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string tid, ctx.resolve_task(ref));
  RH_TRY(store->tasks().set_status(tid, TaskStatus::aborted, "aborted by the user"));
  std::fprintf(stderr, "rh: %s aborted\n", tid.substr(0, 12).c_str());
  return {};
}

}  // namespace

void add_remote_task_commands(CLI::App& app, Context& ctx) {
  CLI::App* tasks = app.get_subcommand("tasks");
  auto id = std::make_shared<std::string>();
  auto edits = std::make_shared<Edits>();
  auto queue = std::make_shared<std::string>();
  auto priority = std::make_shared<int64_t>(0);

  auto* clone = tasks->add_subcommand(
      "clone", "Copy a task as a draft (same code and environment) with edited values");
  clone->add_option("id", *id, "Task ID or unique prefix")->required();
  clone->add_option("--name", edits->name, "Name of the clone (default: the original's)");
  add_edit_options(clone, *edits);
  clone->add_option("--queue", *queue, "Enqueue the clone right away");
  clone->add_option("--priority", *priority, "Priority in the queue (higher runs first)");
  clone->callback([&ctx, id, edits, queue, priority] {
    guard([&] { return clone_draft(ctx, *id, *edits, *queue, *priority); });
  });

  auto* edit =
      tasks->add_subcommand("edit", "Change a draft's parameters, configurations, requirements");
  edit->add_option("id", *id, "Task ID or unique prefix")->required();
  edit->add_option("--name", edits->name, "New name");
  add_edit_options(edit, *edits);
  edit->callback([&ctx, id, edits] { guard([&] { return edit_draft(ctx, *id, *edits); }); });

  auto* enq = tasks->add_subcommand("enqueue", "Put a draft in a queue for an agent to run");
  enq->add_option("id", *id, "Task ID or unique prefix")->required();
  auto enq_queue = std::make_shared<std::string>("default");
  enq->add_option("--queue", *enq_queue, "Queue name (default: default)");
  enq->add_option("--priority", *priority, "Higher runs first (default 0)");
  enq->callback([&ctx, id, queue = enq_queue, priority] {
    guard([&] { return enqueue_task(ctx, *id, *queue, *priority); });
  });

  auto* deq =
      tasks->add_subcommand("dequeue", "Take a queued task out of its queue (a draft again)");
  deq->add_option("id", *id, "Task ID or unique prefix")->required();
  deq->callback([&ctx, id] { guard([&] { return dequeue_task(ctx, *id); }); });

  auto* abort =
      tasks->add_subcommand("abort", "Stop a running or queued task (its agent kills the process)");
  abort->add_option("id", *id, "Task ID or unique prefix")->required();
  abort->callback([&ctx, id] { guard([&] { return abort_task(ctx, *id); }); });
}

}  // namespace rh::cli

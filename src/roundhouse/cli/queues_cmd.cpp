// rh queues list|create|delete.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/output.h"
#include "roundhouse/model/json.h"
#include "roundhouse/store/store_json.h"

namespace rh::cli {

namespace {

Status list_queues(Context& ctx, bool json) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(auto queues, store->queues().list());
  RH_TRY_ASSIGN(auto workers, store->queues().workers());
  if (json) {
    Json out{{"queues", Json::array()}, {"workers", Json::array()}};
    for (const auto& q : queues) {
      Json j = to_json(q);
      RH_TRY_ASSIGN(auto entries, store->queues().entries(q.name, 1000));
      j["entries"] = Json::array();
      for (const auto& e : entries)
        j["entries"].push_back(to_json(e));
      out["queues"].push_back(j);
    }
    for (const auto& w : workers)
      out["workers"].push_back(to_json(w));
    std::puts(out.dump(2).c_str());
    return {};
  }
  if (queues.empty()) {
    std::puts("No queues. Create one: rh queues create NAME");
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& q : queues) {
    RH_TRY_ASSIGN(auto entries, store->queues().entries(q.name, 5));
    std::string waiting;
    for (const auto& e : entries)
      waiting += (waiting.empty() ? "" : ", ") + e.task_id.substr(0, 12) + " " + e.task_name;
    if (q.waiting > static_cast<int64_t>(entries.size()))
      waiting += ", +" + std::to_string(q.waiting - static_cast<int64_t>(entries.size()));
    std::string serving;
    for (const auto& w : workers) {
      if (std::find(w.queues.begin(), w.queues.end(), q.name) != w.queues.end())
        serving +=
            (serving.empty() ? "" : ", ") + w.name + (w.task_id.empty() ? " (idle)" : " (busy)");
    }
    rows.push_back({q.name, std::to_string(q.waiting), q.requeue_on_lost ? "requeue" : "fail",
                    waiting.empty() ? "-" : waiting, serving.empty() ? "-" : serving});
  }
  print_table({"QUEUE", "WAITING", "AGENT LOST", "NEXT", "WORKERS"}, rows);
  if (!workers.empty()) {
    std::puts("");
    std::vector<std::vector<std::string>> wrows;
    for (const auto& w : workers) {
      std::string qs;
      for (const auto& q : w.queues)
        qs += (qs.empty() ? "" : ",") + q;
      wrows.push_back({w.name, w.host, qs, w.gpus.empty() ? "-" : w.gpus,
                       w.task_id.empty() ? "idle" : w.task_id.substr(0, 12),
                       format_time(w.last_heartbeat)});
    }
    print_table({"WORKER", "HOST", "QUEUES", "GPUS", "RUNNING", "LAST HEARTBEAT"}, wrows);
  }
  return {};
}

Status create_queue(Context& ctx, const std::string& name, bool requeue) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(Queue q, store->queues().create(name, requeue));
  std::printf("created queue %s\n", q.name.c_str());
  return {};
}

Status delete_queue(Context& ctx, const std::string& name) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY(store->queues().remove(name));
  std::printf("deleted queue %s\n", name.c_str());
  return {};
}

}  // namespace

void add_queues_commands(CLI::App& app, Context& ctx) {
  auto* queues = app.add_subcommand("queues", "Execution queues and the agents serving them");
  queues->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  auto* list = queues->add_subcommand("list", "Queues, their waiting tasks and their workers");
  list->add_flag("--json", *json, "JSON output");
  list->callback([&ctx, json] { guard([&] { return list_queues(ctx, *json); }); });

  auto name = std::make_shared<std::string>();
  auto requeue = std::make_shared<bool>(false);
  auto* create = queues->add_subcommand("create", "Create a queue");
  create->add_option("name", *name, "Queue name (letters, digits, . _ -)")->required();
  create->add_flag("--requeue-on-lost", *requeue,
                   "When an agent goes silent, put its task back in the queue (default: fail it)");
  create->callback(
      [&ctx, name, requeue] { guard([&] { return create_queue(ctx, *name, *requeue); }); });
  auto* del = queues->add_subcommand("delete", "Delete a queue (refused while tasks wait in it)");
  del->add_option("name", *name, "Queue name")->required();
  del->callback([&ctx, name] { guard([&] { return delete_queue(ctx, *name); }); });
}

}  // namespace rh::cli

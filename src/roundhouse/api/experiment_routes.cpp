// Experiments: create (config + context digest), list, show (with the
// trials), pause/activate/cancel/kill, delete, checkpoints. An experiment
// and its trials are tasks (experiment/records.h); the runner
// (experiment_runner.h) moves them on.
#include <algorithm>
#include <random>

#include "roundhouse/api/api.h"
#include "roundhouse/api/handlers.h"
#include "roundhouse/experiment/driver.h"
#include "roundhouse/experiment/records.h"
#include "roundhouse/model/slots.h"

namespace rh::api {

namespace {

// A runtime number; 0 when absent or not a number (runtime is editable by anyone).
double rt_double(const Task& t, const std::string& k) {
  try {
    return std::stod(experiment::runtime_text(t, k));
  } catch (...) {
    return 0;
  }
}

Json experiment_json(const Task& e) {
  Json j{{"id", e.id},
         {"name", e.name},
         {"project", e.project},
         {"state", std::string(to_string(e.status))},
         {"message", e.status_message},
         {"created", e.created},
         {"queue", experiment::runtime_text(e, "queue")},
         {"priority", experiment::runtime_int(e, "priority")},
         {"context", experiment::runtime_text(e, "context")},
         {"base_task", experiment::runtime_text(e, "base_task")},
         // The scalar the searcher ranks trials by, as the trials record it.
         {"metric_title", experiment::runtime_text(e, "base_task").empty()
                              ? experiment::k_searcher_title
                              : experiment::runtime_text(e, "objective_title")},
         {"metric_series", experiment::runtime_text(e, "objective_series")},
         {"progress", rt_double(e, "progress")}};
  if (!experiment::runtime_text(e, "best_trial").empty()) {
    j["best"] = Json{{"trial", experiment::runtime_int(e, "best_trial")},
                     {"task_id", experiment::runtime_text(e, "best_task")},
                     {"metric", rt_double(e, "best_metric")}};
  }
  return j;
}

Json checkpoint_json(const Task& trial, const Artifact& a) {
  Json j{{"id", a.name.substr(std::string("checkpoint/").size())},
         {"trial", experiment::runtime_int(trial, "trial")},
         {"task_id", trial.id},
         {"digest", a.digest},
         {"size", a.size},
         {"created", a.created}};
  for (const auto& [k, v] : a.metadata)
    j[k] = v;
  return j;
}

}  // namespace

std::optional<std::string> Api::slots_warning(const Task& exp, int64_t slots) {
  std::string queue = experiment::runtime_text(exp, "queue");
  auto workers = m_ctx.store.queues().workers();
  if (!workers)
    return std::nullopt;
  int64_t most = -1;
  for (const auto& w : *workers) {
    if (std::find(w.queues.begin(), w.queues.end(), queue) != w.queues.end())
      most = std::max(most, offered_slots(w.gpus));
  }
  if (most < 0 || most >= slots)
    return std::nullopt;
  return "resources.slots_per_trial: " + std::to_string(slots) + " slots asked, but the agents " +
         "serving queue " + queue + " offer at most " + std::to_string(most) +
         " (one per GPU, one without GPUs): trials wait for an agent started with --gpus";
}

void Api::add_experiment_routes(Router& r) {
  route(r, "POST", "/api/v1/experiments", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(Json j, body_object(req));
          experiment::NewExperiment e;
          RH_TRY(read_string(j, "config", "body", e.config_text, true));
          RH_TRY(read_string(j, "file", "body", e.config_file));
          if (e.config_file.empty())
            e.config_file = "experiment.yaml";
          RH_TRY(read_string_list(j, "overrides", "body", e.overrides));
          RH_TRY(read_string(j, "project", "body", e.project));
          RH_TRY(read_string(j, "queue", "body", e.queue));
          RH_TRY(read_string(j, "context", "body", e.context));
          RH_TRY(read_string(j, "base_task", "body", e.base_task));
          RH_TRY(read_string(j, "objective_title", "body", e.objective_title));
          RH_TRY(read_string(j, "objective_series", "body", e.objective_series));
          if (!e.base_task.empty()) {
            RH_TRY_ASSIGN(e.base_task, task_id(e.base_task));
          }
          e.paused = j.value("paused", false);
          e.test = j.value("test", false);
          e.drawn_seed = (uint64_t(std::random_device{}()) << 32) | std::random_device{}();
          RH_TRY_ASSIGN(Task made, experiment::create_experiment(m_ctx.store, m_ctx.blobs, e));
          RH_TRY_ASSIGN(experiment::Config c, experiment::experiment_config(made));
          Json out = experiment_json(made);
          out["warnings"] = c.warnings;
          if (auto w = slots_warning(made, c.slots_per_trial))
            out["warnings"].push_back(*w);
          m_hub.bump("tasks");
          m_experiments.poke();
          return ok_json(out, 201);
        }));
  route(r, "GET", "/api/v1/experiments", sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(auto list,
                        experiment::experiment_tasks(m_ctx.store, req.query_value("project")));
          Json arr = Json::array();
          for (const auto& e : list) {
            Json j = experiment_json(e);
            RH_TRY_ASSIGN(auto trials, experiment::trial_tasks(m_ctx.store, e.id));
            j["trials"] = trials.size();
            arr.push_back(std::move(j));
          }
          return ok_json(Json{{"experiments", arr}});
        }));
  route(r, "GET", "/api/v1/experiments/{id}",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Task e, m_ctx.store.tasks().get(id));
          if (!experiment::is_experiment(e))
            return make_error(ErrorCode::not_found, "task " + id + " is not an experiment");
          Json out = experiment_json(e);
          if (auto c = experiment::experiment_config(e)) {
            out["searcher"] = Json{{"name", c->searcher.name},
                                   {"metric", c->searcher.metric},
                                   {"smaller_is_better", c->searcher.smaller_is_better},
                                   {"max_length", c->searcher.max_length},
                                   {"unit", c->length_unit},
                                   {"max_trials", c->searcher.max_trials}};
            out["description"] = c->description;
            if (experiment::runtime_text(e, "base_task").empty())
              out["metric_series"] = c->searcher.metric;
            out["warnings"] = c->warnings;
          }
          for (const auto& cfg : e.configurations) {
            if (cfg.name == experiment::k_config_name)
              out["config"] = cfg.value;
          }
          RH_TRY_ASSIGN(auto trials, experiment::trial_tasks(m_ctx.store, id));
          std::string metric = out.contains("searcher") ? out["searcher"]["metric"] : "";
          bool smaller = !out.contains("searcher") || out["searcher"]["smaller_is_better"];
          Json arr = Json::array();
          for (const auto& t : trials) {
            Json tj{{"trial", experiment::runtime_int(t, "trial")},
                    {"task_id", t.id},
                    {"state", std::string(to_string(t.status))},
                    {"message", t.status_message},
                    {"until", experiment::runtime_int(t, "until")},
                    {"restarts", experiment::runtime_int(t, "restarts")},
                    {"latest_checkpoint", experiment::runtime_text(t, "latest_checkpoint")},
                    {"worker", experiment::runtime_text(t, "worker")}};
            auto hp = parse_json(experiment::runtime_text(t, "hparams"), "hparams");
            tj["hparams"] = hp ? *hp : Json::object();
            if (auto sums = m_ctx.store.scalars().summaries(t.id)) {
              for (const auto& s : *sums) {
                bool clone = experiment::is_clone_trial(t);
                std::string title = clone ? experiment::runtime_text(t, "metric_title")
                                          : experiment::k_searcher_title;
                std::string name = clone ? experiment::runtime_text(t, "metric_series") : metric;
                if (s.title == title && s.series == name) {
                  tj["best_metric"] = smaller ? s.min_value : s.max_value;
                  tj["last_metric"] = s.last_value;
                  tj["reached"] = s.last_step;
                  tj["validations"] = s.count;
                }
              }
            }
            arr.push_back(std::move(tj));
          }
          out["trials"] = arr;
          return ok_json(out);
        }));
  for (std::string action : {"pause", "activate", "cancel", "kill"}) {
    route(r, "POST", "/api/v1/experiments/{id}/" + action,
          sync([this, action](HttpRequest& req) -> Result<HttpResponse> {
            RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
            RH_TRY(m_experiments.exclusive([&](const experiment::Notify& n) {
              if (action == "pause")
                return experiment::pause_experiment(m_ctx.store, id, n);
              if (action == "activate")
                return experiment::activate_experiment(m_ctx.store, id, n);
              if (action == "cancel")
                return experiment::cancel_experiment(m_ctx.store, id, n);
              return experiment::kill_experiment(m_ctx.store, id, n);
            }));
            RH_TRY_ASSIGN(Task e, m_ctx.store.tasks().get(id));
            return ok_json(experiment_json(e));
          }));
  }
  route(r, "DELETE", "/api/v1/experiments/{id}",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY(m_experiments.exclusive([&](const experiment::Notify&) -> Status {
            RH_TRY_ASSIGN(Task e, m_ctx.store.tasks().get(id));
            if (!experiment::is_experiment(e))
              return make_error(ErrorCode::not_found, "task " + id + " is not an experiment");
            if (!is_final(e.status)) {
              return make_error(ErrorCode::conflict, "experiment " + id + " is " +
                                                         std::string(to_string(e.status)) +
                                                         ": cancel or kill it before deleting it");
            }
            RH_TRY_ASSIGN(auto trials, experiment::trial_tasks(m_ctx.store, id));
            for (const auto& t : trials) {
              if (!is_final(t.status))
                return make_error(ErrorCode::conflict, "trial task " + t.id + " is still " +
                                                           std::string(to_string(t.status)));
            }
            for (const auto& t : trials)
              RH_TRY(m_ctx.store.tasks().remove(t.id));
            return m_ctx.store.tasks().remove(id);
          }));
          m_hub.bump("tasks");
          return ok_json(Json{{"deleted", id}});
        }));
  route(r, "GET", "/api/v1/experiments/{id}/checkpoints",
        sync([this](HttpRequest& req) -> Result<HttpResponse> {
          RH_TRY_ASSIGN(std::string id, task_id(req.params[0]));
          RH_TRY_ASSIGN(Task t, m_ctx.store.tasks().get(id));
          std::vector<Task> trials;
          if (experiment::is_trial(t)) {
            trials.push_back(t);
          } else if (experiment::is_experiment(t)) {
            RH_TRY_ASSIGN(trials, experiment::trial_tasks(m_ctx.store, id));
          } else {
            return make_error(ErrorCode::not_found,
                              "task " + id + " is neither an experiment nor a trial");
          }
          Json arr = Json::array();
          for (const auto& trial : trials) {
            RH_TRY_ASSIGN(auto arts, m_ctx.store.artifacts().list(trial.id));
            for (const auto& a : arts) {
              if (a.type == "checkpoint" && a.name.starts_with("checkpoint/"))
                arr.push_back(checkpoint_json(trial, a));
            }
          }
          return ok_json(Json{{"checkpoints", arr}});
        }));
}

}  // namespace rh::api

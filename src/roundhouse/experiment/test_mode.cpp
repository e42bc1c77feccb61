#include "roundhouse/experiment/test_mode.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "roundhouse/experiment/config.h"
#include "roundhouse/experiment/context.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

extern char** environ;

namespace rh::experiment {

namespace {

Error step_failed(const std::string& step, const std::string& why) {
  return Error{ErrorCode::invalid_argument, "test mode failed at \"" + step + "\": " + why};
}

// Runs the entry point in `cwd` with the trial's environment; its output
// goes where ours goes. Returns the exit status (128 + signal when killed).
Result<int> run_trial(const Config& c, const std::string& cwd, const std::string& trial_dir) {
  std::vector<std::string> argv = c.entrypoint_argv;
  if (argv.empty())
    argv = {"sh", "-c", c.entrypoint_shell};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    std::string k = kv.substr(0, eq);
    if (k != "RH_TRIAL_DIR" && k != "RH_NEXT_TARGET_WAIT" && !c.environment_variables.count(k))
      env.push_back(kv);
  }
  for (const auto& [k, v] : c.environment_variables)
    env.push_back(k + "=" + v);
  env.push_back("RH_TRIAL_DIR=" + trial_dir);
  env.push_back("RH_NEXT_TARGET_WAIT=0");  // nothing here raises a target
  std::vector<char*> av, ev;
  for (auto& a : argv)
    av.push_back(a.data());
  av.push_back(nullptr);
  for (auto& e : env)
    ev.push_back(e.data());
  ev.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0)
    return make_error(ErrorCode::io, "cannot start the trial");
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0)
      ::_exit(127);
    ::execvpe(av[0], av.data(), ev.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

Result<std::vector<Json>> read_reports(const std::string& trial_dir) {
  std::vector<Json> out;
  std::ifstream in(trial_dir + "/reports.jsonl");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty())
      continue;
    auto j = parse_json(line, "reports.jsonl line " + std::to_string(n));
    if (!j)
      return std::unexpected(j.error());
    out.push_back(std::move(*j));
  }
  return out;
}

Status write_spec(const std::string& trial_dir, const Json& spec) {
  RH_TRY(make_dirs(trial_dir));
  (void)remove_all(trial_dir + "/reports.jsonl");
  std::ofstream(trial_dir + "/trial.json") << spec.dump(2);
  return {};
}

}  // namespace

Status run_local_test(const LocalTestOptions& o, std::FILE* out) {
  RH_TRY_ASSIGN(std::string text, read_file(o.config_path));
  RH_TRY_ASSIGN(Config c, parse_config(text, o.config_path, o.overrides));
  for (const auto& w : c.warnings)
    std::fprintf(out, "warning: %s\n", w.c_str());
  std::fprintf(out, "config: ok (searcher %s, metric %s)\n", c.searcher.name.c_str(),
               c.searcher.metric.c_str());

  std::string ctx_dir = o.context_dir;
  if (ctx_dir.empty()) {
    auto slash = o.config_path.rfind('/');
    ctx_dir = slash == std::string::npos ? "." : o.config_path.substr(0, slash);
  }
  RH_TRY(make_dirs(o.work_dir));
  std::string archive = o.work_dir + "/context.tar.zst", ws = o.work_dir + "/workspace";
  RH_TRY_ASSIGN(PackResult packed, pack_context(ctx_dir, archive, o.context_limit));
  (void)remove_all(ws);
  RH_TRY(unpack_context(archive, ws));
  std::fprintf(out, "context: %zu files (%s), unpacked as an agent would\n", packed.files.size(),
               format_bytes(packed.bytes).c_str());

  search::Rng rng(c.seed ? c.seed : 1);
  Json hparams = search::sample(c.hyperparameters, rng);
  std::fprintf(out, "hyperparameters: %s\n", hparams.dump().c_str());
  std::string trial_dir = o.work_dir + "/trial";
  Json spec{{"trial_id", 1},
            {"experiment_id", "local-test"},
            {"hparams", hparams},
            {"until", 1},
            {"unit", c.length_unit},
            {"metric", c.searcher.metric},
            {"smaller_is_better", c.searcher.smaller_is_better},
            {"data", c.data},
            {"latest_checkpoint", nullptr},
            {"checkpoints_dir", o.work_dir + "/checkpoints"}};

  // 1: train to length 1, report the metric, save a checkpoint.
  const std::string first = "train to length 1";
  RH_TRY(write_spec(trial_dir, spec));
  RH_TRY_ASSIGN(int code, run_trial(c, ws, trial_dir));
  RH_TRY_ASSIGN(auto reports, read_reports(trial_dir));
  for (const auto& r : reports) {
    if (r.value("kind", "") == "invalid_hp")
      return std::unexpected(
          step_failed(first, "the trial raised InvalidHP for " + hparams.dump()));
  }
  if (code != 0)
    return std::unexpected(
        step_failed(first, "the trial exited with status " + std::to_string(code)));
  bool metric_seen = false;
  std::string latest;
  uint64_t steps1 = 0;
  std::vector<std::string> seen;
  for (const auto& r : reports) {
    std::string kind = r.value("kind", "");
    if (kind == "completed")
      metric_seen = true;
    if (kind == "validation") {
      for (const auto& [k, v] : r.at("metrics").items()) {
        seen.push_back(k);
        metric_seen = metric_seen || k == c.searcher.metric;
      }
    }
    if (kind == "training" || kind == "validation")
      steps1 = std::max<uint64_t>(steps1, r.value("steps", uint64_t(0)));
    if (kind == "checkpoint")
      latest = r.at("id").get<std::string>();
  }
  if (!metric_seen) {
    std::string list;
    for (const auto& s : seen)
      list += (list.empty() ? "" : ", ") + s;
    return std::unexpected(step_failed(
        first, "the searcher metric \"" + c.searcher.metric +
                   "\" was never reported in a validation (validation metrics reported: " +
                   (list.empty() ? "none" : list) + ")"));
  }
  if (latest.empty())
    return std::unexpected(step_failed(first, "no checkpoint was saved"));
  std::fprintf(out, "trial: trained to step %llu, reported %s, saved checkpoint %s\n",
               static_cast<unsigned long long>(steps1), c.searcher.metric.c_str(), latest.c_str());

  // 2: start again to length 2 from that checkpoint; the steps must go on.
  const std::string second = "restart from the checkpoint";
  spec["until"] = 2;
  spec["latest_checkpoint"] = latest;
  RH_TRY(write_spec(trial_dir, spec));
  RH_TRY_ASSIGN(code, run_trial(c, ws, trial_dir));
  if (code != 0)
    return std::unexpected(
        step_failed(second, "the trial exited with status " + std::to_string(code)));
  RH_TRY_ASSIGN(reports, read_reports(trial_dir));
  bool restored = false;
  uint64_t first_step = UINT64_MAX, last_step = 0;
  for (const auto& r : reports) {
    std::string kind = r.value("kind", "");
    if (kind == "restored" && r.value("id", "") == latest)
      restored = true;
    if (kind == "training" || kind == "validation") {
      first_step = std::min<uint64_t>(first_step, r.value("steps", uint64_t(0)));
      last_step = std::max<uint64_t>(last_step, r.value("steps", uint64_t(0)));
    }
  }
  if (!restored)
    return std::unexpected(step_failed(second, "the trial did not restore checkpoint " + latest +
                                                   " (ctx.checkpoint.restore() or "
                                                   "core_context.checkpoint.restore_path())"));
  if (first_step != UINT64_MAX && first_step <= steps1) {
    return std::unexpected(
        step_failed(second, "the trial began again at step " + std::to_string(first_step) +
                                " instead of continuing after step " + std::to_string(steps1)));
  }
  std::fprintf(out, "restart: restored %s and went on to step %llu\n", latest.c_str(),
               static_cast<unsigned long long>(last_step));
  std::fprintf(out, "PASS\n");
  return {};
}

}  // namespace rh::experiment

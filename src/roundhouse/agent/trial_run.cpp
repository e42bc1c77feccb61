#include "roundhouse/agent/trial_run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "roundhouse/experiment/context.h"
#include "roundhouse/experiment/records.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/json.h"

namespace rh::agent {

namespace fs = std::filesystem;

namespace {

// Writes a blob into path (created with its parents).
Status fetch_blob(BlobStore& blobs, const std::string& digest, const std::string& path,
                  uint32_t mode) {
  RH_TRY(make_dirs(fs::path(path).parent_path().string()));
  RH_TRY_ASSIGN(AtomicFile f, AtomicFile::create(path));
  CallbackSink sink([&](const char* d, size_t n) { return f.write(d, n); });
  RH_TRY(blobs.get(digest, sink));
  RH_TRY(f.commit());
  ::chmod(path.c_str(), mode & 07777);
  return {};
}

}  // namespace

Result<std::string> fetch_checkpoint(MetadataStore& store, BlobStore& blobs,
                                     const std::string& task_id, const std::string& id,
                                     const std::string& root) {
  RH_TRY_ASSIGN(Artifact a, store.artifacts().get(task_id, "checkpoint/" + id));
  StringSink manifest;
  RH_TRY(blobs.get(a.digest, manifest));
  RH_TRY_ASSIGN(Json m, parse_json(manifest.data(), "checkpoint " + id + " manifest"));
  RH_TRY(make_dirs(root));
  try {
    for (const auto& f : m.at("files")) {
      std::string path = f.at("path").get<std::string>();
      RH_TRY(validate_relative_path("checkpoint file", path));
      RH_TRY(fetch_blob(blobs, f.at("digest").get<std::string>(), root + "/" + path,
                        f.value("mode", 0644u)));
    }
    for (const auto& l : m.value("links", Json::array())) {
      std::string path = l.at("path").get<std::string>(),
                  target = l.at("target").get<std::string>();
      RH_TRY(validate_relative_path("checkpoint link", path));
      fs::path resolved = (fs::path(path).parent_path() / target).lexically_normal();
      if (fs::path(target).is_absolute() || resolved.string().starts_with(".."))
        return make_error(ErrorCode::invalid_argument,
                          "checkpoint " + id + ": link " + path + " leaves the checkpoint");
      RH_TRY(make_dirs((fs::path(root) / path).parent_path().string()));
      std::error_code ec;
      fs::create_symlink(target, fs::path(root) / path, ec);
    }
  } catch (const Json::exception& e) {
    return make_error(ErrorCode::corrupt, "checkpoint " + id + " manifest: " + e.what());
  }
  return a.metadata.count("metadata") ? a.metadata.at("metadata") : "{}";
}

Result<TrialSetup> prepare_trial(const Task& t, MetadataStore& store, BlobStore& blobs,
                                 const std::string& workdir) {
  TrialSetup s;
  s.root = workdir + "/tasks/" + t.id;
  (void)remove_all(s.root);
  RH_TRY(make_dirs(s.root));
  s.run_dir = s.root + "/context";
  s.trial_dir = s.root + "/trial";
  std::string context = experiment::runtime_text(t, "context");
  if (context.empty()) {
    RH_TRY(make_dirs(s.run_dir));
  } else {
    std::string archive = s.root + "/context.tar.zst";
    if (auto st = fetch_blob(blobs, context, archive, 0644); !st)
      return make_error(st.error().code,
                        "cannot fetch the context " + context + ": " + st.error().message);
    RH_TRY(experiment::unpack_context(archive, s.run_dir));
    (void)remove_all(archive);
    s.notes.push_back("context " + context.substr(0, 19) + " unpacked");
  }
  RH_TRY(make_dirs(s.trial_dir + "/checkpoints"));
  std::string latest = experiment::runtime_text(t, "latest_checkpoint");
  // Warm start: until the trial has a checkpoint of its own, it starts from
  // the source trial's.
  std::string from_task = t.id;
  if (latest.empty() && !experiment::runtime_text(t, "source_checkpoint").empty()) {
    latest = experiment::runtime_text(t, "source_checkpoint");
    from_task = experiment::runtime_text(t, "source_task");
  }
  if (!latest.empty()) {
    std::string dir = s.trial_dir + "/checkpoints/" + latest;
    auto meta = fetch_checkpoint(store, blobs, from_task, latest, dir);
    if (!meta)
      return make_error(meta.error().code,
                        "cannot restore checkpoint " + latest + ": " + meta.error().message);
    RH_TRY(write_file_atomic(dir + ".json", *meta));
    s.notes.push_back("checkpoint " + latest + " restored" +
                      (from_task == t.id ? "" : " (warm start from trial task " + from_task + ")"));
  }
  auto parse = [&](const std::string& key, Json def) -> Result<Json> {
    std::string text = experiment::runtime_text(t, key);
    if (text.empty())
      return def;
    return parse_json(text, "trial runtime " + key);
  };
  RH_TRY_ASSIGN(Json hparams, parse("hparams", Json::object()));
  RH_TRY_ASSIGN(Json data, parse("data", Json::object()));
  RH_TRY_ASSIGN(Json entry, parse("entrypoint", Json()));
  RH_TRY_ASSIGN(Json env, parse("env", Json::object()));
  Json spec{{"trial_id", experiment::runtime_int(t, "trial")},
            {"task_id", t.id},
            {"experiment_id", experiment::runtime_text(t, "experiment")},
            {"hparams", hparams},
            {"until", experiment::runtime_int(t, "until")},
            {"unit", experiment::runtime_text(t, "unit")},
            {"metric", experiment::runtime_text(t, "metric")},
            {"smaller_is_better", experiment::runtime_text(t, "smaller_is_better") != "0"},
            {"data", data},
            {"latest_checkpoint", latest.empty() ? Json() : Json(latest)},
            {"checkpoints_dir", s.trial_dir + "/checkpoints"},
            {"restarts", experiment::runtime_int(t, "restarts")}};
  RH_TRY(write_file_atomic(s.trial_dir + "/trial.json", spec.dump(2)));
  if (entry.is_string()) {
    s.argv = {"sh", "-c", entry.get<std::string>()};
  } else if (entry.is_array() && !entry.empty()) {
    for (const auto& a : entry)
      s.argv.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  } else {
    return make_error(ErrorCode::invalid_argument, "trial task " + t.id + " has no entry point");
  }
  for (const auto& [k, v] : env.items())
    s.env.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  return s;
}

TrialPump::TrialPump(MetadataStore& store, BlobStore& blobs, const Task& t, std::string trial_dir,
                     std::function<void(const std::string&)> note)
    : m_store(store),
      m_blobs(blobs),
      m_task_id(t.id),
      m_metric(experiment::runtime_text(t, "metric")),
      m_time_metric(experiment::runtime_text(t, "time_metric")),
      m_dir(std::move(trial_dir)),
      m_note(std::move(note)) {
  m_until = experiment::runtime_int(t, "until");
  m_thread = std::thread([this] { loop(); });
}

TrialPump::~TrialPump() {
  (void)finish();
}

void TrialPump::request_stop() {
  int fd = ::open((m_dir + "/stop").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0)
    ::close(fd);
}

void TrialPump::update_target(int64_t until) {
  if (until <= 0 || until == m_until.exchange(until))
    return;
  auto text = read_file(m_dir + "/trial.json");
  if (!text)
    return;
  Json spec = Json::parse(*text, nullptr, false);
  if (!spec.is_object())
    return;
  spec["until"] = until;
  (void)write_file_atomic(m_dir + "/trial.json", spec.dump(2));
}

void TrialPump::loop() {
  while (!m_stop) {
    if (auto st = drain(); !st) {
      std::lock_guard lk(m_mu);
      if (m_error)
        m_error = st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status TrialPump::finish() {
  if (m_thread.joinable()) {
    m_stop = true;
    m_thread.join();
    if (auto st = drain(); !st && m_error)
      m_error = st;
  }
  return m_error;
}

Status TrialPump::drain() {
  std::lock_guard lk(m_mu);
  int fd = ::open((m_dir + "/reports.jsonl").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return {};
  char buf[65536];
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(m_offset));
    if (n <= 0)
      break;
    m_offset += uint64_t(n);
    m_partial.append(buf, size_t(n));
  }
  ::close(fd);
  Status first;
  size_t start = 0;
  for (size_t nl; (nl = m_partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = m_partial.substr(start, nl - start);
    if (line.empty())
      continue;
    if (auto st = handle(line); !st && first)
      first = st;
  }
  m_partial.erase(0, start);
  if (!m_batch.empty()) {
    auto st = m_store.scalars().append(m_task_id, std::move(m_batch));
    m_batch.clear();
    if (!st && first)
      first = st;
  }
  return first;
}

Status TrialPump::handle(const std::string& line) {
  auto parsed = parse_json(line, "reports.jsonl");
  if (!parsed || !parsed->is_object()) {
    m_note("a report line that is not a JSON object was skipped: " + line.substr(0, 200));
    return {};
  }
  const Json& r = *parsed;
  std::string kind = r.value("kind", "");
  auto point = [&](const std::string& title, const std::string& series, int64_t step, double v) {
    for (auto& s : m_batch) {
      if (s.title == title && s.series == series) {
        s.steps.push_back(step);
        s.values.push_back(v);
        s.times.push_back(0);
        return;
      }
    }
    m_batch.push_back(ScalarSeries{title, series, {step}, {v}, {0}});
  };
  auto searcher_point = [&](uint64_t units, double v) {
    point(experiment::k_searcher_title, m_metric, int64_t(units), v);
    if (units > m_reached)
      m_reached = units;
  };
  if (kind == "training" || kind == "validation") {
    int64_t steps = r.value("steps", int64_t(0));
    if (!r.contains("metrics") || !r["metrics"].is_object())
      return {};
    for (const auto& [k, v] : r["metrics"].items()) {
      if (v.is_number())
        point(kind, k, steps, v.get<double>());
    }
    const Json& m = r["metrics"];
    if (kind == "validation" && m.contains(m_metric) && m[m_metric].is_number()) {
      uint64_t units = uint64_t(std::max<int64_t>(0, steps));
      if (!m_time_metric.empty() && m.contains(m_time_metric) && m[m_time_metric].is_number())
        units = uint64_t(std::max(0.0, m[m_time_metric].get<double>()));
      searcher_point(units, m[m_metric].get<double>());
    }
  } else if (kind == "completed") {
    if (r.contains("metric") && r["metric"].is_number())
      searcher_point(r.value("length", uint64_t(0)), r["metric"].get<double>());
  } else if (kind == "checkpoint") {
    // Reports before the checkpoint land first: its metadata may point at them.
    if (!m_batch.empty()) {
      RH_TRY(m_store.scalars().append(m_task_id, std::move(m_batch)));
      m_batch.clear();
    }
    return upload_checkpoint(r.value("id", ""), r.value("metadata", Json::object()).dump());
  } else if (kind == "invalid_hp") {
    m_invalid_hp = true;
    RH_TRY(experiment::set_runtime(m_store, m_task_id, {{"invalid_hp", "1"}}));
    m_note("the trial raised InvalidHP: " + r.value("message", ""));
  } else if (kind == "progress") {
    if (r.contains("progress") && r["progress"].is_number()) {
      (void)experiment::set_runtime(
          m_store, m_task_id, {{"trial_progress", std::to_string(r["progress"].get<double>())}});
    }
  } else if (kind == "restored") {
    m_note("the trial restored checkpoint " + r.value("id", ""));
  }
  return {};
}

Status TrialPump::upload_checkpoint(const std::string& id, const std::string& metadata_json) {
  Json metadata = Json::parse(metadata_json, nullptr, false);
  if (!metadata.is_object())
    metadata = Json::object();
  if (id.empty() || id.find('/') != std::string::npos || id.starts_with("."))
    return make_error(ErrorCode::invalid_argument, "checkpoint id \"" + id + "\" is not a name");
  std::string root = m_dir + "/checkpoints/" + id;
  Json files = Json::array(), links = Json::array();
  std::vector<std::pair<std::string, std::string>> uploads;
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::string rel = fs::relative(it->path(), root).generic_string();
    if (it->is_symlink()) {
      links.push_back(Json{{"path", rel}, {"target", fs::read_symlink(it->path()).string()}});
    } else if (it->is_regular_file()) {
      RH_TRY_ASSIGN(std::string digest, sha256_file(it->path().string()));
      struct stat st {};
      ::stat(it->path().c_str(), &st);
      files.push_back(Json{
          {"path", rel}, {"digest", digest}, {"size", st.st_size}, {"mode", st.st_mode & 0777}});
      uploads.emplace_back(digest, it->path().string());
      total += uint64_t(st.st_size);
    }
  }
  if (ec)
    return make_error(ErrorCode::io,
                      "checkpoint " + id + ": cannot read " + root + ": " + ec.message());
  // Only what the server lacks goes up: an unchanged file of an earlier
  // checkpoint is not sent again.
  std::vector<std::string> digests;
  for (const auto& [d, p] : uploads)
    digests.push_back(d);
  RH_TRY_ASSIGN(auto missing, m_blobs.missing(digests));
  std::vector<std::pair<std::string, std::string>> send;
  for (const auto& [d, p] : uploads) {
    if (std::find(missing.begin(), missing.end(), d) != missing.end())
      send.emplace_back(d, p);
  }
  RH_TRY(m_blobs.put_many(send));
  Json manifest{{"files", files}, {"links", links}};
  RH_TRY_ASSIGN(BlobInfo mb, m_blobs.put_bytes(manifest.dump()));
  Artifact a;
  a.name = "checkpoint/" + id;
  a.digest = mb.digest;
  a.size = total;
  a.type = "checkpoint";
  a.content_type = "application/json";
  a.metadata["metadata"] = metadata.dump();
  if (metadata.contains("steps_completed"))
    a.metadata["steps_completed"] = metadata["steps_completed"].dump();
  for (const auto& [d, p] : uploads)
    a.members.push_back(d);
  std::sort(a.members.begin(), a.members.end());
  a.members.erase(std::unique(a.members.begin(), a.members.end()), a.members.end());
  a.metadata["files"] = std::to_string(files.size());
  a.metadata["uploaded"] = std::to_string(send.size());
  RH_TRY(m_store.artifacts().put(m_task_id, a));
  RH_TRY(experiment::set_runtime(m_store, m_task_id, {{"latest_checkpoint", id}}));
  m_note("checkpoint " + id + " stored (" + std::to_string(files.size()) + " files, " +
         std::to_string(send.size()) + " sent)");
  return {};
}

TrialOutcome trial_outcome(const Task& now, uint64_t started_until, int exit_code,
                           bool agent_stopping, uint64_t reached, bool invalid_hp) {
  TrialOutcome o;
  std::string stop = experiment::runtime_text(now, "stop");
  uint64_t until = uint64_t(experiment::runtime_int(now, "until"));
  uint64_t max_length = uint64_t(experiment::runtime_int(now, "max_length"));
  int64_t restarts = experiment::runtime_int(now, "restarts");
  int64_t max_restarts = experiment::runtime_int(now, "max_restarts");
  if (agent_stopping) {
    o.status = TaskStatus::paused;
    o.message = "the agent was stopped; the trial resumes from its latest checkpoint";
    return o;
  }
  if (exit_code == 0) {
    if (invalid_hp) {
      o.status = TaskStatus::completed;
      o.message = "invalid hyperparameters";
    } else if (stop == "cancel") {
      o.status = TaskStatus::aborted;
      o.message = "the experiment was canceled";
    } else if (stop == "stop" || (max_length > 0 && reached >= max_length)) {
      o.status = TaskStatus::completed;
    } else if (stop == "pause") {
      o.status = TaskStatus::paused;
      o.message = "paused";
    } else if (reached >= started_until && started_until > 0) {
      // Its target when it started is reached; a later one (a promotion
      // while it ran) is trained after a resume from its checkpoint.
      o.status = TaskStatus::paused;
      o.message = "reached " + std::to_string(reached) +
                  (until > reached ? "; resumes to " + std::to_string(until)
                                   : "; waiting for the searcher");
    } else {
      o.status = TaskStatus::failed;
      o.message = "the trial exited before reaching its target " + std::to_string(started_until) +
                  " (reported " + std::to_string(reached) + ")";
    }
    return o;
  }
  if (stop == "cancel") {
    o.status = TaskStatus::aborted;
    o.message = "the experiment was canceled";
    return o;
  }
  if (restarts < max_restarts) {
    o.status = TaskStatus::paused;
    o.message = "exit code " + std::to_string(exit_code) + "; restart " +
                std::to_string(restarts + 1) + " of " + std::to_string(max_restarts) +
                " from the latest checkpoint";
    o.runtime["restarts"] = std::to_string(restarts + 1);
    return o;
  }
  o.status = TaskStatus::failed;
  o.message =
      "exit code " + std::to_string(exit_code) + " after " + std::to_string(restarts) + " restarts";
  return o;
}

}  // namespace rh::agent

#include "roundhouse/agent/agent.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "roundhouse/agent/trial_run.h"
#include "roundhouse/agent/warm_python.h"
#include "roundhouse/agent/workspace.h"
#include "roundhouse/client/http_client.h"
#include "roundhouse/client/remote_store.h"
#include "roundhouse/experiment/records.h"
#include "roundhouse/model/json.h"
#include "roundhouse/model/slots.h"
#include "roundhouse/run/capture.h"
#include "roundhouse/run/recorder.h"
#include "roundhouse/run/supervise.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::agent {

namespace {

std::atomic<int> g_stop_signal{0};
int g_wake_fd = -1;

void on_stop(int sig) {
  g_stop_signal = sig;
  if (g_wake_fd >= 0) {
    char c = 1;
    (void)!::write(g_wake_fd, &c, 1);
  }
}

double steady_ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// This binary, which also is the trial relay (warm_python.h).
std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

class Agent {
 public:
  Agent(Env& env, AgentOptions opt, RemoteStores stores)
      : m_env(env),
        m_opt(std::move(opt)),
        m_store(std::move(stores.store)),
        m_blobs(std::move(stores.blobs)),
        m_poll(m_opt.server, m_opt.token),
        m_watch(m_opt.server, m_opt.token),
        m_warm(m_opt.workdir + "/warm", m_opt.warm ? self_exe() : "") {}

  Status run() {
    RH_TRY(heartbeat());
    std::thread beat([this] { heartbeat_loop(); });
    std::fprintf(stderr, "rh agent %s: serving %s (workdir %s)\n", m_opt.name.c_str(),
                 join(m_opt.queues, ", ").c_str(), m_opt.workdir.c_str());
    Status result;
    while (!g_stop_signal) {
      auto took = take();
      if (!took) {
        // The server is away (restarting?): say so once a while and retry.
        std::fprintf(stderr, "rh agent %s: %s; retrying\n", m_opt.name.c_str(),
                     took.error().message.c_str());
        for (int i = 0; i < 20 && !g_stop_signal; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (!*took)
        continue;
      run_task(**took);
      if (m_opt.once)
        break;
    }
    {
      std::lock_guard lk(m_mu);
      m_stopping = true;
    }
    m_cv.notify_all();
    beat.join();
    (void)m_store->queues().unregister(m_opt.name);
    std::fprintf(stderr, "rh agent %s: stopped\n", m_opt.name.c_str());
    return result;
  }

 private:
  Result<std::optional<Task>> take() {
    nlohmann::json body{
        {"queues", m_opt.queues}, {"worker", m_opt.name}, {"timeout", m_opt.poll_timeout_s}};
    RH_TRY_ASSIGN(std::string text, m_poll.call("POST", "/api/v1/queues/take", body.dump()));
    RH_TRY_ASSIGN(Json j, parse_json(text, "take reply"));
    if (!j.contains("task") || j["task"].is_null())
      return std::optional<Task>{};
    Task t;
    RH_TRY(from_json(j["task"], "task", t));
    return std::optional<Task>{std::move(t)};
  }

  // The GPUs this agent serves: --gpus, else the CUDA_VISIBLE_DEVICES it was
  // started with; "" for none.
  std::string served_gpus() const {
    if (m_opt.gpus == "none")
      return "";
    if (!m_opt.gpus.empty())
      return m_opt.gpus;
    const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES");
    return cvd ? cvd : "";
  }

  Status heartbeat() {
    Worker w;
    w.name = m_opt.name;
    w.host = host_name();
    w.queues = m_opt.queues;
    w.gpus = served_gpus();
    {
      std::lock_guard lk(m_mu);
      w.task_id = m_current;
    }
    return m_store->queues().heartbeat(w);
  }

  void heartbeat_loop() {
    std::unique_lock lk(m_mu);
    auto period = std::chrono::milliseconds(static_cast<int64_t>(m_opt.heartbeat_s * 1000));
    while (!m_cv.wait_for(lk, period, [&] { return m_stopping; })) {
      lk.unlock();
      if (auto st = heartbeat(); !st)
        std::fprintf(stderr, "rh agent %s: heartbeat failed: %s\n", m_opt.name.c_str(),
                     st.error().message.c_str());
      lk.lock();
    }
  }

  // Waits on the task's changes; sets m_abort when it is no longer running.
  void watch_abort(const std::string& id, std::atomic<bool>& done, int wake_fd) {
    std::string since;
    while (!done) {
      std::string path =
          "/api/v1/changes?task=" + id + "&timeout=5" + (since.empty() ? "" : "&since=" + since);
      auto r = m_watch.call("GET", path);
      if (done)
        return;
      if (!r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      auto j = nlohmann::json::parse(*r, nullptr, false);
      std::string v = j.is_object() && j.contains("version") ? j["version"].dump() : "";
      bool changed = !since.empty() && v != since;
      since = v;
      if (!changed && !m_check_now.exchange(false))
        continue;
      auto st = m_watch.call("GET", "/api/v1/tasks/" + id);
      if (!st)
        continue;
      auto t = nlohmann::json::parse(*st, nullptr, false);
      std::string status = t.is_object() ? t.value("status", "") : "";
      TrialPump* pump = m_pump;
      if (pump && t.is_object() && t.contains("runtime") && t["runtime"].is_object()) {
        const auto& rt = t["runtime"];
        if (rt.contains("until") && rt["until"].is_string()) {
          try {
            pump->update_target(std::stoll(rt["until"].get<std::string>()));
          } catch (...) {
          }
        }
        if (!rt.value("stop", "").empty())
          pump->request_stop();
      }
      if (status == "aborted" || status == "created" || status == "queued") {
        m_abort = true;
        char c = 1;
        (void)!::write(wake_fd, &c, 1);
        return;
      }
    }
  }

  void run_task(const Task& task) {
    auto t_take = std::chrono::steady_clock::now();
    {
      std::lock_guard lk(m_mu);
      m_current = task.id;
    }
    (void)heartbeat();
    std::fprintf(stderr, "rh agent %s: running task %s (%s/%s)\n", m_opt.name.c_str(),
                 task.id.c_str(), task.project.c_str(), task.name.c_str());
    Recorder rec(*m_store, m_env, task.id);
    auto note = [&](const std::string& text) {
      rec.note("rh agent " + m_opt.name + ": " + text);
      if (m_opt.tee)
        std::fprintf(stderr, "rh agent %s: %s\n", m_opt.name.c_str(), text.c_str());
    };
    auto fail = [&](const std::string& message) {
      note(message);
      (void)rec.finish();
      if (auto st = m_store->tasks().set_status(task.id, TaskStatus::failed, message); !st)
        note("cannot record the failure: " + st.error().message);
    };
    auto finish_up = [&] {
      std::lock_guard lk(m_mu);
      m_current.clear();
    };

    bool trial = experiment::is_context_trial(task);
    std::optional<TrialSetup> setup;
    Result<Workspace> ws = Workspace{};
    if (trial) {
      auto prepared = prepare_trial(task, *m_store, *m_blobs, m_opt.workdir);
      if (!prepared) {
        fail("cannot prepare the trial: " + prepared.error().message);
        return finish_up();
      }
      setup = std::move(*prepared);
      ws = Workspace{setup->root, setup->run_dir, setup->notes};
    } else {
      ws = build_workspace(task, m_opt.workdir);
    }
    if (!ws) {
      fail(ws.error().message);
      return finish_up();
    }
    for (const auto& n : ws->notes)
      note(n);
    // A trial's requirements are its context's requirements.txt, if any.
    std::string requirements = task.environment.requirements;
    if (trial) {
      if (auto r = read_file(setup->run_dir + "/requirements.txt"))
        requirements = *r;
    }
    auto venv = build_venv(requirements, m_opt.python, m_opt.workdir);
    if (!venv) {
      fail(venv.error().message);
      (void)remove_all(ws->root);
      return finish_up();
    }
    for (const auto& n : venv->notes)
      note(n);
    std::map<std::string, std::string> runtime{{"worker", m_opt.name}, {"host", host_name()}};
    if (!venv->failed.empty()) {
      std::string list = join(venv->failed, ", ");
      note("could not install: " + list + " (the task runs with what the system provides)");
      runtime["requirements_failed"] = list;
    }

    SuperviseOptions sup;
    sup.argv = trial ? setup->argv : task_command(task, venv->python);
    // A pipeline stage (`rh stage exec`, submitted by `rh repro --queue`)
    // runs this binary, with a cache of pipeline data kept between tasks.
    bool rh_task = !trial && !sup.argv.empty() && sup.argv[0] == "rh";
    if (rh_task)
      sup.argv[0] = self_exe();
    sup.cwd = ws->run_dir;
    sup.tee = m_opt.tee;
    sup.own_process_group = true;
    sup.kill_grace_s = m_opt.kill_grace_s;
    sup.env = current_environment({"RH_TASK_ID", "RH_SERVER", "RH_API_TOKEN", "RH_OFFLINE",
                                   "RH_PIPELINE_CACHE", "VIRTUAL_ENV", "PYTHONHOME",
                                   "RH_SUPERVISED", "RH_TRIAL_DIR"});
    std::string path = "PATH=" + venv->dir + "/bin";
    std::string pythonpath = m_opt.sdk_path;
    for (auto& kv : sup.env) {
      if (kv.starts_with("PATH="))
        path += ":" + kv.substr(5);
      if (kv.starts_with("PYTHONPATH="))
        pythonpath += (pythonpath.empty() ? "" : ":") + kv.substr(11);
    }
    std::erase_if(sup.env, [](const std::string& kv) {
      return kv.starts_with("PATH=") || kv.starts_with("PYTHONPATH=") ||
             (kv.starts_with("CUDA_VISIBLE_DEVICES="));
    });
    sup.env.push_back(path);
    if (!pythonpath.empty())
      sup.env.push_back("PYTHONPATH=" + pythonpath);
    sup.env.push_back("VIRTUAL_ENV=" + venv->dir);
    sup.env.push_back("RH_TASK_ID=" + task.id);
    sup.env.push_back("RH_SERVER=" + m_opt.server);
    if (!m_opt.token.empty())
      sup.env.push_back("RH_API_TOKEN=" + m_opt.token);
    sup.env.push_back("PYTHONUNBUFFERED=1");
    if (rh_task)
      sup.env.push_back("RH_PIPELINE_CACHE=" + m_opt.workdir + "/pipeline-cache");
    if (trial) {
      sup.env.push_back("RH_TRIAL_DIR=" + setup->trial_dir);
      for (const auto& kv : setup->env) {
        std::string k = kv.substr(0, kv.find('='));
        std::string before;  // PATH and PYTHONPATH from the config go in front
        for (const auto& e : sup.env) {
          if (e.starts_with(k + "=") && (k == "PATH" || k == "PYTHONPATH"))
            before = e.substr(k.size() + 1);
        }
        std::erase_if(sup.env, [&](const std::string& e) { return e.starts_with(k + "="); });
        sup.env.push_back(before.empty() ? kv : kv + ":" + before);
      }
    }
    // A task asking slots (a trial's slots_per_trial) sees that many of the
    // agent's GPUs; any other task sees all of them.
    if (!m_opt.gpus.empty() || std::getenv("CUDA_VISIBLE_DEVICES")) {
      auto asked = task.runtime.find("slots");
      int64_t slots = asked == task.runtime.end() ? -1 : std::atoll(asked->second.c_str());
      sup.env.push_back("CUDA_VISIBLE_DEVICES=" + devices_for(served_gpus(), slots));
    }

    int wake[2];
    if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
      fail("cannot create a pipe");
      return finish_up();
    }
    m_abort = false;
    std::atomic<bool> done{false};
    // The status may have changed between the take and now (an abort right away).
    m_check_now = true;
    std::optional<TrialPump> pump;
    if (trial) {
      pump.emplace(*m_store, *m_blobs, task, setup->trial_dir, note);
      m_pump = &*pump;
    }
    std::thread watcher([&] { watch_abort(task.id, done, wake[1]); });
    bool stop_requested = false;
    sup.wake_fd = wake[0];
    int agent_wake = g_wake_fd;
    g_wake_fd = wake[1];  // a stop signal also wakes the supervisor
    sup.check = [&]() -> int {
      if (g_stop_signal && !stop_requested) {
        stop_requested = true;
        return SIGTERM;
      }
      return m_abort ? SIGTERM : 0;
    };
    double overhead_start_ms = 0;
    sup.on_started = [&](pid_t) { overhead_start_ms = steady_ms_since(t_take); };
    std::string cmd_text = join(sup.argv, " ");
    if (trial) {
      std::vector<std::string> wrapped = m_warm.wrap(
          sup.argv, sup.env, ws->run_dir, experiment::runtime_text(task, "context"), note);
      if (wrapped != sup.argv)
        note("through the warm interpreter: " + cmd_text);
      sup.argv = std::move(wrapped);
    }
    note("running " + cmd_text + " in " + ws->run_dir);
    auto res = supervise(rec, m_env, std::move(sup));
    g_wake_fd = agent_wake;
    auto t_end = std::chrono::steady_clock::now();

    // The trial's last reports and checkpoint first: their notes go to the console too.
    Status pumped;
    if (pump)
      pumped = pump->finish();
    Status flushed = rec.finish();
    if (!res) {
      done = true;
      (void)m_store->tasks().update(task.id, TaskPatch{});  // wakes the watcher
      watcher.join();
      m_pump = nullptr;  // the pump ends with this run
      ::close(wake[0]);
      ::close(wake[1]);
      fail("cannot run the task: " + res.error().message);
      (void)remove_all(ws->root);
      return finish_up();
    }
    std::string message;
    TaskStatus status = res->final_status(message, runtime, cmd_text);
    if (stop_requested) {
      status = TaskStatus::aborted;
      message = "agent " + m_opt.name + " was stopped";
    }
    runtime["process_started"] = fmt_double(res->started_at);
    runtime["agent_setup_ms"] = fmt_double(overhead_start_ms);
    TaskPatch patch;
    patch.runtime = runtime;
    done = true;  // before the write that wakes the watcher: it must not poll again
    if (auto st = m_store->tasks().update(task.id, patch); !st)
      std::fprintf(stderr, "rh agent %s: cannot record the run: %s\n", m_opt.name.c_str(),
                   st.error().message.c_str());
    watcher.join();
    m_pump = nullptr;
    if (trial) {
      // A trial's end depends on what it was asked (stop, pause, cancel),
      // how far it got and its restarts, as the store has them now.
      auto latest = m_store->tasks().get(task.id);
      if (latest && latest->status == TaskStatus::running && !res->aborted) {
        TrialOutcome o =
            trial_outcome(*latest, uint64_t(experiment::runtime_int(task, "until")), res->exit_code,
                          stop_requested, pump->reached(), pump->invalid_hp());
        if (!pumped) {
          o.status = TaskStatus::failed;
          o.message = "reports or checkpoints were lost: " + pumped.error().message;
        }
        status = o.status;
        message = o.message;
        if (!o.runtime.empty()) {
          TaskPatch rp;
          rp.runtime = o.runtime;
          (void)m_store->tasks().update(task.id, rp);
        }
      } else if (latest && latest->status == TaskStatus::running && stop_requested) {
        status = TaskStatus::paused;
        message = "the agent was stopped; the trial resumes from its latest checkpoint";
      }
    }
    ::close(wake[0]);
    ::close(wake[1]);
    // The SDK inside may have recorded the end already (completed, or failed
    // with its traceback); an abort is final too. Only a task still running
    // gets the agent's verdict.
    auto now = m_store->tasks().get(task.id);
    if (now && now->status == TaskStatus::running) {
      if (auto st = m_store->tasks().set_status(task.id, status, message); !st)
        std::fprintf(stderr, "rh agent %s: cannot record the end: %s\n", m_opt.name.c_str(),
                     st.error().message.c_str());
    }
    if (!flushed) {
      std::fprintf(stderr, "rh agent %s: some console or metrics could not be recorded: %s\n",
                   m_opt.name.c_str(), flushed.error().message.c_str());
    }
    double finish_ms = steady_ms_since(t_end);
    (void)remove_all(ws->root);
    std::fprintf(
        stderr, "rh agent %s: task %s %s%s%s (setup %.0f ms, wrap-up %.0f ms)\n",
        m_opt.name.c_str(), task.id.c_str(),
        std::string(to_string(now && is_final(now->status) ? now->status : status)).c_str(),
        message.empty() ? "" : ": ", message.c_str(), overhead_start_ms, finish_ms);
    finish_up();
    (void)heartbeat();
  }

  static std::string fmt_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
  }

  Env& m_env;
  AgentOptions m_opt;
  std::unique_ptr<MetadataStore> m_store;
  std::unique_ptr<BlobStore> m_blobs;
  std::atomic<TrialPump*> m_pump{nullptr};  // the running trial's, while there is one
  HttpClient m_poll;                        // the long-poll for tasks
  HttpClient m_watch;                       // the long-poll on the running task
  WarmPython m_warm;                        // trials' warm interpreter (task loop only)
  std::mutex m_mu;
  std::condition_variable m_cv;
  bool m_stopping = false;
  std::string m_current;
  std::atomic<bool> m_abort{false};
  std::atomic<bool> m_check_now{false};
};

}  // namespace

Status run_agent(Env& env, const AgentOptions& opt_in) {
  AgentOptions opt = opt_in;
  if (opt.queues.empty())
    return make_error(ErrorCode::invalid_argument, "give at least one --queue");
  if (opt.name.empty())
    opt.name = host_name() + ":" + std::to_string(::getpid());
  RH_TRY(make_dirs(opt.workdir));
  RH_TRY_ASSIGN(RemoteStores stores, open_remote(opt.server, opt.token));
  for (const auto& q : opt.queues) {
    if (auto got = stores.store->queues().get(q); !got) {
      return make_error(got.error().code,
                        got.error().message + " (create it: rh queues create " + q + ")");
    }
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
    return make_error(ErrorCode::io, "pipe failed");
  g_wake_fd = wake[1];
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int, old_term;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  Agent agent(env, opt, std::move(stores));
  Status st = agent.run();
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_wake_fd = -1;
  ::close(wake[0]);
  ::close(wake[1]);
  return st;
}

}  // namespace rh::agent

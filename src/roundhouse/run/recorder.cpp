#include "roundhouse/run/recorder.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "roundhouse/util/json.h"
#include "roundhouse/util/strings.h"

namespace rh {

namespace {
constexpr size_t k_max_partial = 64 * 1024;
constexpr size_t k_flush_points = 50000;
}  // namespace

Recorder::Recorder(MetadataStore& store, Env& env, std::string task_id, double flush_interval_s)
    : m_store(store), m_env(env), m_task(std::move(task_id)), m_interval(flush_interval_s) {
  m_thread = std::thread([this] { loop(); });
}

Recorder::~Recorder() {
  (void)finish();
}

void Recorder::console(ConsoleStream stream, std::string_view bytes) {
  std::lock_guard lock(m_mu);
  std::string& part = m_partial[static_cast<int>(stream)];
  part.append(bytes);
  size_t start = 0;
  while (true) {
    size_t nl = part.find('\n', start);
    if (nl == std::string::npos)
      break;
    std::string_view line(part.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    size_t cr = line.find_last_of('\r');
    if (cr != std::string_view::npos)
      line = line.substr(cr + 1);
    m_lines.push_back(ConsoleLine{0, m_env.now(), stream, sanitize_utf8(line)});
    start = nl + 1;
  }
  part.erase(0, start);
  if (part.size() > k_max_partial) {
    m_lines.push_back(ConsoleLine{0, m_env.now(), stream, sanitize_utf8(part)});
    part.clear();
  }
}

void Recorder::note(const std::string& text) {
  std::lock_guard lock(m_mu);
  m_lines.push_back(ConsoleLine{0, m_env.now(), ConsoleStream::stderr_stream, sanitize_utf8(text)});
}

void Recorder::scalar(const std::string& title, const std::string& series, int64_t step,
                      double value, double time) {
  bool wake = false;
  {
    std::lock_guard lock(m_mu);
    auto& s = m_points[{title, series}];
    if (s.title.empty()) {
      s.title = title;
      s.series = series;
    }
    s.steps.push_back(step);
    s.values.push_back(value);
    s.times.push_back(time);
    wake = ++m_pending_points >= k_flush_points;
  }
  if (wake)
    m_cv.notify_one();
}

void Recorder::loop() {
  std::unique_lock lock(m_mu);
  while (!m_stop) {
    m_cv.wait_for(lock, std::chrono::duration<double>(m_interval),
                  [&] { return m_stop || m_pending_points >= k_flush_points; });
    if (m_stop)
      break;
    lock.unlock();
    (void)flush();
    lock.lock();
  }
}

Status Recorder::flush() {
  std::lock_guard flush_lock(m_flush_mu);
  // What failed last time goes first, unchanged and under the same request
  // key, so a batch the store applied (only its answer was lost) is not
  // applied twice. New data waits behind it, keeping the order.
  {
    std::lock_guard lock(m_mu);
    if (m_retry_scalars.empty() && !m_points.empty()) {
      for (auto& [key, s] : m_points) {
        m_retry_scalars.push_back(std::move(s));
      }
      m_points.clear();
      m_pending_points = 0;
      m_scalars_key = m_env.new_id();
    }
    if (m_retry_lines.empty() && !m_lines.empty()) {
      m_retry_lines.swap(m_lines);
      m_lines_key = m_env.new_id();
    }
  }
  Status result;
  if (!m_retry_scalars.empty()) {
    result = m_store.scalars().append(m_task, m_retry_scalars, m_scalars_key);
    if (result) {
      m_retry_scalars.clear();
    }
  }
  if (!m_retry_lines.empty()) {
    auto st = m_store.console().append(m_task, m_retry_lines, m_lines_key);
    if (st) {
      m_retry_lines.clear();
    } else if (result) {
      result = std::unexpected(st.error());
    }
  }
  if (!result) {
    std::lock_guard lock(m_mu);
    if (m_error) {
      m_error = result;
    }
    if (!m_warned) {
      std::fprintf(stderr, "rh: cannot record to the store yet (%s); retrying\n",
                   result.error().message.c_str());
      m_warned = true;
    }
  }
  return result;
}

Status Recorder::finish() {
  {
    std::lock_guard lock(m_mu);
    if (m_stop && !m_thread.joinable())
      return m_error;
    m_stop = true;
    for (int s : {1, 2}) {
      if (!m_partial[s].empty()) {
        m_lines.push_back(ConsoleLine{0, m_env.now(), static_cast<ConsoleStream>(s),
                                      sanitize_utf8(m_partial[s])});
        m_partial[s].clear();
      }
    }
  }
  m_cv.notify_all();
  if (m_thread.joinable())
    m_thread.join();
  // A few attempts: a server restarting must not lose the tail of a run.
  // A flush that sends a retried batch leaves newer data for the next one.
  Status st;
  for (int failures = 0; failures < 5;) {
    st = flush();
    if (st) {
      std::lock_guard lock(m_flush_mu);
      std::lock_guard data_lock(m_mu);
      if (m_retry_scalars.empty() && m_retry_lines.empty() && m_points.empty() && m_lines.empty()) {
        return {};
      }
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << failures));
    ++failures;
  }
  return st;
}

Result<MetricLine> parse_metric_line(std::string_view line) {
  RH_TRY_ASSIGN(Json j, parse_json(line, "metrics line"));
  RH_TRY(expect_object(j, "metrics line"));
  MetricLine m;
  RH_TRY(read_string(j, "title", "metrics line", m.title, true));
  m.series = m.title;
  RH_TRY(read_string(j, "series", "metrics line", m.series));
  if (j.contains("iteration")) {
    int64_t it = 0;
    RH_TRY(read_int(j, "iteration", "metrics line", it, true));
    m.iteration = it;
  }
  RH_TRY(read_double(j, "value", "metrics line", m.value, true));
  RH_TRY(read_double(j, "time", "metrics line", m.time));
  return m;
}

}  // namespace rh

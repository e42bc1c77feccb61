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
  std::vector<ConsoleLine> lines;
  std::vector<ScalarSeries> batch;
  {
    std::lock_guard lock(m_mu);
    lines.swap(m_lines);
    for (auto& [key, s] : m_points)
      batch.push_back(std::move(s));
    m_points.clear();
    m_pending_points = 0;
  }
  Status result;
  if (!batch.empty()) {
    if (auto st = m_store.scalars().append(m_task, batch); !st) {
      result = st;
      // Keep the points for the next flush, ahead of newer ones.
      std::lock_guard lock(m_mu);
      for (auto& s : batch) {
        auto& cur = m_points[{s.title, s.series}];
        s.steps.insert(s.steps.end(), cur.steps.begin(), cur.steps.end());
        s.values.insert(s.values.end(), cur.values.begin(), cur.values.end());
        s.times.insert(s.times.end(), cur.times.begin(), cur.times.end());
        m_pending_points += s.steps.size() - cur.steps.size();
        cur = std::move(s);
      }
    }
  }
  if (!lines.empty()) {
    if (auto st = m_store.console().append(m_task, lines); !st) {
      if (result)
        result = std::unexpected(st.error());
      std::lock_guard lock(m_mu);
      lines.insert(lines.end(), m_lines.begin(), m_lines.end());
      m_lines.swap(lines);
    }
  }
  if (!result) {
    std::lock_guard lock(m_mu);
    if (m_error)
      m_error = result;
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
  Status st;
  for (int attempt = 0; attempt < 5; ++attempt) {
    st = flush();
    if (st)
      return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
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

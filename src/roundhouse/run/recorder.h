// Recorder: buffers what a running program produces (console text, scalar
// points) and sends it to the store in batches from a background thread, so
// the program is never slowed by the store. Thread-safe.
//
// Console text is split into lines; a carriage return keeps only the text
// after it (progress bars store their final state). Invalid UTF-8 bytes
// become U+FFFD: the console is never dropped for its encoding.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "roundhouse/env/env.h"
#include "roundhouse/store/metadata_store.h"

namespace rh {

class Recorder {
 public:
  Recorder(MetadataStore& store, Env& env, std::string task_id, double flush_interval_s = 0.5);
  ~Recorder();

  void console(ConsoleStream stream, std::string_view bytes);
  void scalar(const std::string& title, const std::string& series, int64_t step, double value,
              double time);
  // Flushes partial lines and everything buffered; stops the thread. Returns
  // the first error a flush met (the data stays buffered until a flush works).
  Status finish();
  // Emits a line of rh's own (shown to the user too by the caller).
  void note(const std::string& text);

 private:
  void loop();
  Status flush();

  MetadataStore& m_store;
  Env& m_env;
  std::string m_task;
  double m_interval;
  std::mutex m_mu;
  std::condition_variable m_cv;
  bool m_stop = false;
  std::string m_partial[3];  // by stream
  std::vector<ConsoleLine> m_lines;
  std::map<std::pair<std::string, std::string>, ScalarSeries> m_points;
  size_t m_pending_points = 0;
  std::mutex m_flush_mu;  // guards the four below
  std::vector<ScalarSeries> m_retry_scalars;
  std::string m_scalars_key;
  std::vector<ConsoleLine> m_retry_lines;
  std::string m_lines_key;
  Status m_error;
  bool m_warned = false;
  std::thread m_thread;
};

// One line of the metrics stream (RH_METRICS_FD / RH_METRICS_FILE), JSON:
//   {"title": "loss", "series": "train", "iteration": 3, "value": 0.25, "time": 1.7e9}
// series defaults to the title, iteration to one more than the series' last,
// time to now; value may be "NaN", "Infinity" or "-Infinity".
struct MetricLine {
  std::string title;
  std::string series;
  std::optional<int64_t> iteration;
  double value = 0;
  double time = 0;
};
Result<MetricLine> parse_metric_line(std::string_view line);

}  // namespace rh

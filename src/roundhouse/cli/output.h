// Printing helpers for commands: aligned tables, times, a progress bar that
// shows only on a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rh::cli {

// Prints rows under a header, columns padded to the widest cell (UTF-8 aware).
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);
// "2026-11-22 03:45:10" in local time; "-" for 0.
std::string format_time(double epoch_seconds);
std::string format_duration(double seconds);
// Shortest round-trip text of a double; NaN/Infinity spelled out.
std::string format_number(double v);

// A progress line on a terminal's stderr (nothing when stderr is not one),
// redrawn at most ten times a second: bytes, or counts of `unit` ("files")
// when one is given; a total of 0 means not known yet (no percentage). An
// update with done == total draws the line a last time and ends it.
class Progress {
 public:
  explicit Progress(std::string label, std::string unit = {});
  ~Progress();
  void update(uint64_t done, uint64_t total);

 private:
  std::string m_label, m_unit;
  bool m_tty;
  bool m_drawn = false;
  double m_last = 0;
};

}  // namespace rh::cli

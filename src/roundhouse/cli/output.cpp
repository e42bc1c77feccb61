#include "roundhouse/cli/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "roundhouse/util/strings.h"
#include "roundhouse/util/table.h"

namespace rh::cli {

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::fputs(format_table(header, rows).c_str(), stdout);
}

std::string format_time(double t) {
  if (t <= 0)
    return "-";
  std::time_t secs = static_cast<std::time_t>(t);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_duration(double s) {
  if (s < 60)
    return fmt::format("{:.1f}s", s);
  if (s < 3600)
    return fmt::format("{}m{:02}s", int(s) / 60, int(s) % 60);
  return fmt::format("{}h{:02}m", int(s) / 3600, (int(s) % 3600) / 60);
}

std::string format_number(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", v);
}

Progress::Progress(std::string label, std::string unit)
    : m_label(std::move(label)), m_unit(std::move(unit)), m_tty(::isatty(2)) {}

Progress::~Progress() {
  if (m_drawn)
    std::fputs("\n", stderr);
}

void Progress::update(uint64_t done, uint64_t total) {
  if (!m_tty)
    return;
  using namespace std::chrono;
  double now = duration<double>(steady_clock::now().time_since_epoch()).count();
  if ((total == 0 || done < total) && now - m_last < 0.1)
    return;
  m_last = now;
  auto amount = [&](uint64_t n) { return m_unit.empty() ? format_bytes(n) : std::to_string(n); };
  std::string line = "\r" + m_label + "  " + amount(done);
  if (total > 0)
    line += " / " + amount(total);
  if (!m_unit.empty())
    line += " " + m_unit;
  if (total > 0)
    line += fmt::format("  {:3d}%", int(100.0 * double(done) / double(total)));
  line += "\x1b[K";  // clears what a longer line left
  std::fputs(line.c_str(), stderr);
  m_drawn = true;
  if (total > 0 && done >= total) {  // the last update ends the line
    std::fputs("\n", stderr);
    m_drawn = false;
  }
}

}  // namespace rh::cli

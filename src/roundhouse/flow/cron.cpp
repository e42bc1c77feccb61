#include "roundhouse/flow/cron.h"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <map>

#include "roundhouse/util/strings.h"

namespace rh::flow {

namespace {

using namespace std::chrono;

const char* const k_fields[] = {"minute", "hour", "day of month", "month", "day of week"};

int name_value(const std::string& s, int field) {
  static const std::map<std::string, int> months{{"JAN", 1}, {"FEB", 2},  {"MAR", 3},  {"APR", 4},
                                                 {"MAY", 5}, {"JUN", 6},  {"JUL", 7},  {"AUG", 8},
                                                 {"SEP", 9}, {"OCT", 10}, {"NOV", 11}, {"DEC", 12}};
  static const std::map<std::string, int> days{{"SUN", 0}, {"MON", 1}, {"TUE", 2}, {"WED", 3},
                                               {"THU", 4}, {"FRI", 5}, {"SAT", 6}};
  std::string u;
  for (char c : s)
    u += char(std::toupper(static_cast<unsigned char>(c)));
  const auto& m = field == 3 ? months : days;
  if (field == 3 || field == 4)
    if (auto it = m.find(u); it != m.end())
      return it->second;
  if (s.empty() || s.size() > 4)
    return -1;
  for (char c : s)
    if (c < '0' || c > '9')
      return -1;
  return std::stoi(s);
}

// One field into `bits` (lo..hi); `star`: it was `*` alone.
Status parse_field(const std::string& text, int field, int lo, int hi, std::vector<bool>& bits,
                   bool& star) {
  std::string where = std::string(k_fields[field]) + " field '" + text + "'";
  star = text == "*";
  for (const auto& part : split(text, ',')) {
    if (part.empty())
      return make_error(ErrorCode::invalid_argument, where + ": an empty list item");
    std::string range = part;
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      range = part.substr(0, slash);
      int s = name_value(part.substr(slash + 1), -1);
      if (s <= 0)
        return make_error(ErrorCode::invalid_argument,
                          where + ": the step after '/' is a positive number");
      step = s;
    }
    int a = lo, b = hi;
    if (range != "*") {
      auto dash = range.find('-');
      a = name_value(range.substr(0, dash), field);
      b = dash == std::string::npos ? a : name_value(range.substr(dash + 1), field);
      if (a < 0 || b < 0)
        return make_error(ErrorCode::invalid_argument, where + ": '" + range + "' is no value");
      if (field == 4 && b == 7 && a <= 7)
        b = 7;  // 7 is Sunday too
      if (a < lo || b > (field == 4 ? 7 : hi) || a > b)
        return make_error(ErrorCode::invalid_argument,
                          where + ": values are " + std::to_string(lo) + "-" +
                              std::to_string(field == 4 ? 7 : hi) + ", low to high");
      if (dash == std::string::npos && part.find('/') != std::string::npos)
        b = field == 4 ? 6 : hi;  // "5/15": from 5 on
    }
    for (int v = a; v <= b; v += step)
      bits[size_t(field == 4 ? v % 7 : v)] = true;
  }
  return {};
}

bool day_matches(const CronSpec& c, date::year_month_day ymd) {
  if (!c.months[unsigned(ymd.month())])
    return false;
  bool dom = c.days[unsigned(ymd.day())];
  bool dow = c.weekdays[date::weekday(ymd).c_encoding()];
  if (!c.any_day && !c.any_weekday)
    return dom || dow;
  return dom && dow;
}

}  // namespace

Result<CronSpec> parse_cron(const std::string& expr_in) {
  std::string expr(trim(expr_in));
  static const std::map<std::string, std::string> macros{
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  if (!expr.empty() && expr[0] == '@') {
    auto it = macros.find(expr);
    if (it == macros.end())
      return make_error(ErrorCode::invalid_argument,
                        "'" + expr +
                            "': known are @hourly, @daily, @midnight, @weekly, @monthly, "
                            "@yearly, @annually");
    expr = it->second;
  }
  std::vector<std::string> f;
  for (const auto& p : split(expr, ' '))
    if (!p.empty())
      f.push_back(p);
  if (f.size() != 5)
    return make_error(ErrorCode::invalid_argument,
                      "'" + expr_in +
                          "': a cron expression has 5 fields (minute hour day-of-month "
                          "month day-of-week), not " +
                          std::to_string(f.size()));
  CronSpec c;
  const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 6};
  for (int i = 0; i < 5; ++i) {
    std::vector<bool> bits(64, false);
    bool star = false;
    RH_TRY(parse_field(f[size_t(i)], i, lo[i], hi[i], bits, star));
    for (int v = lo[i]; v <= hi[i]; ++v) {
      if (!bits[size_t(v)])
        continue;
      switch (i) {
        case 0:
          c.minutes[size_t(v)] = true;
          break;
        case 1:
          c.hours[size_t(v)] = true;
          break;
        case 2:
          c.days[size_t(v)] = true;
          break;
        case 3:
          c.months[size_t(v)] = true;
          break;
        default:
          c.weekdays[size_t(v)] = true;
          break;
      }
    }
    if (i == 2)
      c.any_day = star;
    if (i == 4)
      c.any_weekday = star;
  }
  return c;
}

Status check_time_zone(const std::string& tz) {
  try {
    (void)date::locate_zone(tz);
    return {};
  } catch (const std::exception&) {
    return make_error(
        ErrorCode::invalid_argument,
        "no time zone '" + tz + "' (IANA names: UTC, Europe/Berlin, America/New_York)");
  }
}

Result<double> next_cron_time(const CronSpec& c, const std::string& tz, double after) {
  RH_TRY(check_time_zone(tz));
  const date::time_zone* zone = date::locate_zone(tz);
  auto after_s = sys_seconds(seconds(int64_t(std::floor(after))));
  auto local_after = zone->to_local(after_s);
  auto day = date::floor<date::days>(local_after);
  for (int n = 0; n < 366 * 8; ++n, day += date::days(1)) {
    date::year_month_day ymd(day);
    if (!day_matches(c, ymd))
      continue;
    for (int h = 0; h < 24; ++h) {
      if (!c.hours[size_t(h)])
        continue;
      for (int m = 0; m < 60; ++m) {
        if (!c.minutes[size_t(m)])
          continue;
        auto wall = day + hours(h) + minutes(m);
        auto info = zone->get_info(wall);
        sys_seconds at;
        if (info.result == date::local_info::nonexistent)
          at = info.second.begin;  // the end of the gap
        else
          at = sys_seconds(wall.time_since_epoch() -
                           info.first.offset);  // unique, or the first of two
        if (at > after_s)
          return double(at.time_since_epoch().count());
      }
    }
  }
  return make_error(ErrorCode::not_found, "the schedule never runs in the next 8 years");
}

std::string local_time_text(double t, const std::string& tz) {
  try {
    auto zt = date::make_zoned(tz, sys_seconds(seconds(int64_t(t))));
    return date::format("%Y-%m-%d %H:%M %Z", zt);
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace rh::flow

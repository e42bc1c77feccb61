// Schedules' times: standard 5-field cron expressions (minute hour
// day-of-month month day-of-week; `*`, lists, ranges, `/step`, month names
// JAN-DEC, day names SUN-SAT, 0 and 7 both Sunday) and @hourly, @daily,
// @midnight, @weekly, @monthly, @yearly, @annually, in a named IANA time
// zone (the OS's tz database, through Howard Hinnant's date library).
//
// As cron does: when day-of-month and day-of-week are both restricted, a
// day matching either runs. Across daylight-saving changes a wall time is
// run once: a time the day skips (02:30 when clocks jump from 02:00 to
// 03:00) runs at the end of the gap, once however many of its times fall
// in the gap; a time the day has twice (01:30 when clocks fall back) runs
// at its first occurrence only.
#pragma once

#include <bitset>
#include <string>

#include "roundhouse/util/error.h"

namespace rh::flow {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;                     // 1..31
  std::bitset<13> months;                   // 1..12
  std::bitset<7> weekdays;                  // 0 = Sunday
  bool any_day = true, any_weekday = true;  // the field was `*`
};

// invalid_argument naming the field and what is wrong with it.
Result<CronSpec> parse_cron(const std::string& expr);

// Whether `tz` names a zone of the tz database ("UTC", "Europe/Berlin").
Status check_time_zone(const std::string& tz);

// The first run strictly after `after` (seconds since the epoch, UTC);
// not_found when there is none within 8 years (e.g. 30 February).
Result<double> next_cron_time(const CronSpec& spec, const std::string& tz, double after);

// `t` as the zone's wall clock, "2026-03-29 03:00 CEST".
std::string local_time_text(double t, const std::string& tz);

}  // namespace rh::flow

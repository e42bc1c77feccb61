// The cron calculator on a fake clock: fields, names and steps, cron's
// day-of-month/day-of-week rule, the macros, clear errors; and across DST
// changes in Europe/Berlin and America/New_York, every job runs once per
// day it is due — a skipped wall time at the end of the gap, a repeated
// one at its first occurrence — over a whole simulated year.
#include "roundhouse/flow/cron.h"

#include <gtest/gtest.h>

#include <ctime>
#include <set>
#include <vector>

namespace rh::flow {
namespace {

// Seconds since the epoch of a UTC date and time.
double utc(int y, int mo, int d, int h, int mi) {
  std::tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  return double(timegm(&t));
}

std::vector<std::string> next_n(const std::string& expr, const std::string& tz, double from,
                                int n) {
  auto c = parse_cron(expr);
  EXPECT_TRUE(c) << c.error().message;
  std::vector<std::string> out;
  double t = from;
  for (int i = 0; i < n; ++i) {
    auto r = next_cron_time(*c, tz, t);
    EXPECT_TRUE(r) << r.error().message;
    if (!r)
      break;
    t = *r;
    out.push_back(local_time_text(t, tz));
  }
  return out;
}

TEST(Cron, FieldsListsRangesStepsAndNames) {
  double t0 = utc(2026, 1, 1, 0, 0);  // a Thursday
  EXPECT_EQ(next_n("*/20 9-10 * * *", "UTC", t0, 7),
            (std::vector<std::string>{"2026-01-01 09:00 UTC", "2026-01-01 09:20 UTC",
                                      "2026-01-01 09:40 UTC", "2026-01-01 10:00 UTC",
                                      "2026-01-01 10:20 UTC", "2026-01-01 10:40 UTC",
                                      "2026-01-02 09:00 UTC"}));
  EXPECT_EQ(next_n("30 8 * JAN,mar MON-FRI", "UTC", utc(2026, 1, 30, 9, 0), 2),
            (std::vector<std::string>{"2026-03-02 08:30 UTC", "2026-03-03 08:30 UTC"}));
  // 7 and 0 are both Sunday; "5/15" starts at 5.
  EXPECT_EQ(next_n("5/15 0 * * 7", "UTC", t0, 4),
            (std::vector<std::string>{"2026-01-04 00:05 UTC", "2026-01-04 00:20 UTC",
                                      "2026-01-04 00:35 UTC", "2026-01-04 00:50 UTC"}));
  // Day of month and day of week both restricted: either runs (the 13th, or a Friday).
  EXPECT_EQ(next_n("0 12 13 * FRI", "UTC", t0, 3),
            (std::vector<std::string>{"2026-01-02 12:00 UTC", "2026-01-09 12:00 UTC",
                                      "2026-01-13 12:00 UTC"}));
  EXPECT_EQ(next_n("@monthly", "UTC", t0, 2),
            (std::vector<std::string>{"2026-02-01 00:00 UTC", "2026-03-01 00:00 UTC"}));
  EXPECT_EQ(next_n("@weekly", "UTC", t0, 1), (std::vector<std::string>{"2026-01-04 00:00 UTC"}));
  EXPECT_EQ(next_n("@hourly", "UTC", t0, 1), (std::vector<std::string>{"2026-01-01 01:00 UTC"}));
  // Strictly after: a due time equal to `after` is the next one's.
  EXPECT_EQ(next_n("@daily", "UTC", t0, 1), (std::vector<std::string>{"2026-01-02 00:00 UTC"}));
  // 29 February: the next leap year.
  EXPECT_EQ(next_n("0 0 29 2 *", "UTC", t0, 1), (std::vector<std::string>{"2028-02-29 00:00 UTC"}));
}

TEST(Cron, BadExpressionsAndZonesSayWhatIsWrong) {
  struct Case {
    const char* expr;
    const char* says;
  } cases[] = {{"* * * *", "5 fields"},
               {"60 * * * *", "minute field '60'"},
               {"* 24 * * *", "hour field"},
               {"* * 0 * *", "day of month field"},
               {"* * * 13 *", "month field"},
               {"* * * * 8", "day of week field"},
               {"*/0 * * * *", "positive number"},
               {"5-1 * * * *", "low to high"},
               {"1,,2 * * * *", "empty list item"},
               {"* * * FOO *", "is no value"},
               {"@sometimes", "known are @hourly"}};
  for (const auto& c : cases) {
    auto r = parse_cron(c.expr);
    ASSERT_FALSE(r) << c.expr;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << c.expr << ": " << r.error().message;
  }
  EXPECT_FALSE(check_time_zone("Mars/Olympus"));
  EXPECT_TRUE(check_time_zone("Europe/Berlin"));
  EXPECT_FALSE(next_cron_time(*parse_cron("0 0 31 2 *"), "UTC", 0));
}

TEST(Cron, DaylightSavingChangesRunEachWallTimeOnce) {
  // Berlin, 2026-03-29: 02:00 CET -> 03:00 CEST. 02:30 does not exist: it
  // runs once at 03:00 CEST; */15 in hour 2 also runs once.
  EXPECT_EQ(next_n("30 2 * * *", "Europe/Berlin", utc(2026, 3, 27, 12, 0), 3),
            (std::vector<std::string>{"2026-03-28 02:30 CET", "2026-03-29 03:00 CEST",
                                      "2026-03-30 02:30 CEST"}));
  EXPECT_EQ(next_n("*/15 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0), 2),
            (std::vector<std::string>{"2026-03-29 03:00 CEST", "2026-03-30 02:00 CEST"}));
  // Berlin, 2026-10-25: 03:00 CEST -> 02:00 CET; 02:30 happens twice, runs once.
  EXPECT_EQ(next_n("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12, 0), 2),
            (std::vector<std::string>{"2026-10-25 02:30 CEST", "2026-10-26 02:30 CET"}));
  // New York, 2026-11-01: 01:30 twice (EDT, then EST): once, at the first.
  EXPECT_EQ(next_n("30 1 * * *", "America/New_York", utc(2026, 10, 31, 12, 0), 2),
            (std::vector<std::string>{"2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"}));
  // Asked from inside the repeated hour (the second 01:10): the second
  // 01:30 is not a new run.
  double second_0110 = utc(2026, 11, 1, 6, 10);  // 01:10 EST
  EXPECT_EQ(next_n("30 1 * * *", "America/New_York", second_0110, 1),
            (std::vector<std::string>{"2026-11-02 01:30 EST"}));
  // New York, 2026-03-08: 02:00 EST -> 03:00 EDT.
  EXPECT_EQ(next_n("30 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0), 2),
            (std::vector<std::string>{"2026-03-08 03:00 EDT", "2026-03-09 02:30 EDT"}));
}

TEST(Cron, ASimulatedYearRunsEveryDayOnceInBothZones) {
  for (const char* tz : {"Europe/Berlin", "America/New_York"}) {
    for (const char* expr : {"30 2 * * *", "30 1 * * *", "0 0 * * *", "59 23 * * *"}) {
      auto c = parse_cron(expr);
      ASSERT_TRUE(c);
      double t = utc(2026, 1, 1, 12, 0);
      std::set<std::string> days;
      int runs = 0;
      double prev = t;
      for (;;) {
        auto r = next_cron_time(*c, tz, t);
        ASSERT_TRUE(r);
        if (*r >= utc(2027, 1, 1, 12, 0))
          break;
        EXPECT_GT(*r, prev);
        prev = t = *r;
        ++runs;
        days.insert(local_time_text(*r, tz).substr(0, 10));
      }
      EXPECT_EQ(runs, 365) << tz << " " << expr;
      EXPECT_EQ(days.size(), 365u) << tz << " " << expr << ": one run a day";
    }
  }
}

}  // namespace
}  // namespace rh::flow

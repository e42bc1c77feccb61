// rh schedules next EXPR [--tz ZONE] [-n N] [--after TIME]: the next run
// times of a cron expression in a time zone (flow/cron.h), as the zone's
// wall clock and in UTC. TIME: UTC, "2026-03-28T12:00Z" (seconds optional).
// Registering schedules on the server (add, list, delete) is not built yet.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/flow/cron.h"

namespace rh::cli {

namespace {

struct NextFlags {
  std::string expr, tz = "UTC", after;
  int count = 5;
};

Result<double> parse_utc(const std::string& s) {
  std::tm t{};
  int sec = 0;
  char z = 0;
  int n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d%c", &t.tm_year, &t.tm_mon, &t.tm_mday,
                      &t.tm_hour, &t.tm_min, &sec, &z);
  if (n < 7) {
    sec = 0;
    n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d%c", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour,
                    &t.tm_min, &z);
    if (n < 6)
      z = 0;
  }
  if (z != 'Z')
    return make_error(ErrorCode::invalid_argument,
                      "--after " + s + ": a UTC time as 2026-03-28T12:00Z");
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  t.tm_sec = sec;
  return double(timegm(&t));
}

Status next_cmd(const NextFlags& f) {
  RH_TRY_ASSIGN(flow::CronSpec spec, flow::parse_cron(f.expr));
  RH_TRY(flow::check_time_zone(f.tz));
  double t =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!f.after.empty()) {
    RH_TRY_ASSIGN(t, parse_utc(f.after));
  }
  for (int i = 0; i < f.count; ++i) {
    RH_TRY_ASSIGN(t, flow::next_cron_time(spec, f.tz, t));
    std::time_t tt = std::time_t(t);
    std::tm u{};
    gmtime_r(&tt, &u);
    char iso[32];
    std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &u);
    std::printf("%s  %s\n", flow::local_time_text(t, f.tz).c_str(), iso);
  }
  return {};
}

}  // namespace

void add_schedules_commands(CLI::App& app, Context&) {
  auto* cmd = app.add_subcommand("schedules", "Schedules (cron expressions in a time zone)");
  cmd->require_subcommand(1);
  auto f = std::make_shared<NextFlags>();
  auto* next = cmd->add_subcommand("next", "The next run times of a cron expression");
  next->add_option("expr", f->expr, "5 fields, or @hourly/@daily/@weekly/@monthly/@yearly")
      ->required();
  next->add_option("--tz", f->tz, "An IANA time zone (default UTC)");
  next->add_option("-n,--count", f->count, "How many (default 5)")->check(CLI::Range(1, 10000));
  next->add_option("--after", f->after, "From this UTC time (default now): 2026-03-28T12:00Z");
  next->callback([f] { guard([&] { return next_cmd(*f); }); });
}

}  // namespace rh::cli

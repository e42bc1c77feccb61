"""`rh schedules next` as a user runs it: the next run times of a cron
expression in a time zone, across a DST change, and clear errors for a bad
expression or zone (the calculator itself: src/roundhouse/flow/cron_test.cpp)."""
from conftest import rh


def test_next_run_times_across_a_dst_change():
    out = rh("schedules", "next", "30 2 * * *", "--tz", "Europe/Berlin", "-n", "3",
             "--after", "2026-03-27T12:00Z").stdout.splitlines()
    assert out == ["2026-03-28 02:30 CET  2026-03-28T01:30:00Z",
                   "2026-03-29 03:00 CEST  2026-03-29T01:00:00Z",
                   "2026-03-30 02:30 CEST  2026-03-30T00:30:00Z"]
    out = rh("schedules", "next", "@hourly", "-n", "2", "--after", "2026-01-01T00:30Z").stdout.splitlines()
    assert out == ["2026-01-01 01:00 UTC  2026-01-01T01:00:00Z", "2026-01-01 02:00 UTC  2026-01-01T02:00:00Z"]


def test_bad_expressions_and_zones_are_named():
    r = rh("schedules", "next", "61 * * * *", check=False)
    assert r.returncode != 0 and "minute field '61'" in r.stderr
    r = rh("schedules", "next", "@daily", "--tz", "Nowhere/X", check=False)
    assert r.returncode != 0 and "no time zone 'Nowhere/X'" in r.stderr
    r = rh("schedules", "next", "@daily", "--after", "yesterday", check=False)
    assert r.returncode != 0 and "--after yesterday" in r.stderr

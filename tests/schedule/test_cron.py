"""Cron expressions and due ticks with a fake clock: the latest tick fires once, missed ticks fire once,
ticks before a schedule was saved never fire, time zones and daylight saving are the schedule's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from audiomuse_ray.errors import BadRequest, ConfigurationError
from audiomuse_ray.schedule.cron import due_tick, latest_tick, next_tick, validate, zone

UTC = timezone.utc


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_validate():
    assert validate("  0  3 * * 1-5 ") == "0 3 * * 1-5"
    assert validate("*/15 * * * SUN") == "*/15 * * * SUN"
    for bad, words in (("", "Enter"), ("0 3 * *", "5 fields"), ("0 0 3 * * *", "5 fields"), ("61 * * * *", "not a valid"),
                       ("0 0 31 2 *", "never fires")):
        with pytest.raises(BadRequest, match=words):
            validate(bad)


def test_latest_and_next_tick():
    assert latest_tick("0 3 * * *", at(2030, 1, 2, 3, 0, 59), UTC) == at(2030, 1, 2, 3, 0)  # the tick's own minute
    assert latest_tick("0 3 * * *", at(2030, 1, 2, 2, 59, 59), UTC) == at(2030, 1, 1, 3, 0)
    assert next_tick("0 3 * * *", at(2030, 1, 2, 3, 0, 30), UTC) == at(2030, 1, 3, 3, 0)
    assert latest_tick("*/10 * * * *", at(2030, 1, 2, 3, 27), UTC) == at(2030, 1, 2, 3, 20)


def test_a_tick_is_due_once():
    saved = at(2030, 1, 1, 12, 0)
    now = at(2030, 1, 2, 3, 0, 5)
    tick = due_tick("0 3 * * *", now, UTC, saved)
    assert tick == at(2030, 1, 2, 3, 0)
    assert due_tick("0 3 * * *", now + timedelta(seconds=30), UTC, saved, last_tick=tick) is None
    assert due_tick("0 3 * * *", at(2030, 1, 2, 23, 0), UTC, saved, last_tick=tick) is None
    assert due_tick("0 3 * * *", at(2030, 1, 3, 3, 0), UTC, saved, last_tick=tick) == at(2030, 1, 3, 3, 0)


def test_missed_ticks_run_once_at_the_latest():
    saved = at(2030, 1, 1, 0, 0)
    last = at(2030, 1, 1, 10, 0)
    # down from 10:00 to 14:37 on an every-15-minutes schedule: 18 ticks missed, one is due
    assert due_tick("*/15 * * * *", at(2030, 1, 1, 14, 37), UTC, saved, last) == at(2030, 1, 1, 14, 30)
    # down for a week on a daily one: one run, for the latest 3 am
    assert due_tick("0 3 * * *", at(2030, 1, 8, 9, 0), UTC, saved, at(2030, 1, 1, 3, 0)) == at(2030, 1, 8, 3, 0)


def test_ticks_before_the_schedule_was_saved_never_fire():
    assert due_tick("0 3 * * *", at(2030, 1, 2, 12, 0), UTC, active_since=at(2030, 1, 2, 9, 0)) is None
    assert due_tick("0 3 * * *", at(2030, 1, 3, 3, 0), UTC, active_since=at(2030, 1, 2, 9, 0)) == at(2030, 1, 3, 3, 0)


def test_the_schedules_time_zone_and_daylight_saving():
    rome = zone("Europe/Rome")
    # 3 am in Rome is 2 am UTC in winter, 1 am UTC in summer
    assert latest_tick("0 3 * * *", at(2030, 1, 15, 2, 0), rome) == at(2030, 1, 15, 2, 0)
    assert latest_tick("0 3 * * *", at(2030, 7, 15, 1, 0), rome) == at(2030, 7, 15, 1, 0)
    # 2:30 does not exist on the spring-forward night (2030-03-31): the tick still comes, once
    tick = due_tick("30 2 * * *", at(2030, 3, 31, 3, 0), rome, at(2030, 3, 30, 12, 0))
    assert tick is not None and at(2030, 3, 31, 0, 0) <= tick <= at(2030, 3, 31, 3, 0)
    assert zone("").utcoffset(datetime(2030, 1, 1)) is not None  # the machine's own zone
    assert zone("UTC") == ZoneInfo("UTC")
    with pytest.raises(ConfigurationError):
        zone("Mars/Olympus")

"""5-field cron expressions (minute hour day-of-month month day-of-week), read by croniter, and which tick of
a schedule is due now. Pure: the clock's time is an argument.

Ticks are whole minutes in the schedule's time zone (daylight-saving changes as croniter handles them),
handed around in UTC. A schedule is due when its latest tick at or before now is newer than the last tick
it ran for and not older than the schedule's last edit: after a stop of any length only that latest tick
is due, so missed ticks run once, not once each, and a schedule switched on at noon does not fire for 3 am.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from audiomuse_ray.errors import BadRequest, ConfigurationError

MINUTE = timedelta(minutes=1)


def validate(expr: str) -> str:
    """The expression with its fields single-spaced; ``BadRequest`` saying what is wrong otherwise."""
    fields = str(expr or "").split()
    if not fields:
        raise BadRequest("Enter a cron expression, or disable the schedule.")
    if len(fields) != 5:
        raise BadRequest(f"A cron expression needs 5 fields (minute hour day month weekday); got {len(fields)}.")
    text = " ".join(fields)
    if not croniter.is_valid(text):
        raise BadRequest(f"'{text}' is not a valid cron expression (minute 0-59, hour 0-23, day 1-31, month 1-12, "
                         "weekday 0-6 or SUN-SAT; '*', lists, ranges and '/steps').")
    try:
        croniter(text, datetime(2000, 1, 1, tzinfo=timezone.utc)).get_next(datetime)
    except (CroniterBadDateError, CroniterBadCronError):
        raise BadRequest(f"'{text}' never fires (no such date): check the day and month fields.") from None
    return text


def zone(name: str = "") -> tzinfo:
    """An IANA time zone by name; the machine's local zone when empty."""
    if not name:
        return datetime.now().astimezone().tzinfo or timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"Unknown time zone {name!r}: use an IANA name such as Europe/Rome or UTC.") from None


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def latest_tick(expr: str, now: datetime, tz: tzinfo) -> datetime:
    """The newest tick at or before ``now`` (UTC)."""
    base = (floor_minute(now) + MINUTE).astimezone(tz)
    return croniter(expr, base).get_prev(datetime).astimezone(timezone.utc)


def next_tick(expr: str, now: datetime, tz: tzinfo) -> datetime:
    """The first tick after ``now`` (UTC)."""
    return croniter(expr, floor_minute(now).astimezone(tz)).get_next(datetime).astimezone(timezone.utc)


def due_tick(expr: str, now: datetime, tz: tzinfo, active_since: datetime,
             last_tick: datetime | None = None) -> datetime | None:
    """The tick to run now, or None: the latest tick at or before ``now``, if it is newer than
    ``last_tick`` (the last one run) and not before ``active_since`` (when the schedule was last saved)."""
    tick = latest_tick(expr, now, tz)
    if tick < active_since or (last_tick is not None and tick <= last_tick):
        return None
    return tick

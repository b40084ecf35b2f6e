"""``schedule list|add|remove``: the schedule table from the command line (the same use cases as /api/cron).

The scheduler actor that fires the rows runs with ``audiomuse-ray serve`` (or the Serve app); these
commands only edit the table, so they work whether or not it runs.
"""

from __future__ import annotations

import argparse
import json

from audiomuse_ray.commands.registry import add_settings_arguments, command, print_json
from audiomuse_ray.settings import Settings


def _setup(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="every schedule with its next and last run")
    ls.add_argument("--json", action="store_true")
    add = actions.add_parser("add", help="add a schedule (or replace the one of that task type and name)")
    add.add_argument("task_type", choices=["analysis", "clustering", "alchemy_radio", "sonic_fingerprint"])
    add.add_argument("cron_expr", help="5 fields: minute hour day month weekday, e.g. '0 3 * * *'")
    add.add_argument("--name", default="", help="default: the task type")
    add.add_argument("--options", default="{}", help="JSON object, e.g. '{\"num_recent_albums\": 20}'")
    add.add_argument("--disabled", action="store_true", help="save it switched off")
    rm = actions.add_parser("remove", help="remove a schedule and its run history")
    rm.add_argument("id", type=int)
    for action in (ls, add, rm):  # settings after the action too, as after any command
        add_settings_arguments(action)


@command("schedule", "scheduled jobs (cron): list, add or remove rows", _setup)
def schedule_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.errors import BadRequest
    from audiomuse_ray.schedule import cron_api
    from audiomuse_ray.schedule.cron import zone
    from audiomuse_ray.store import open_store

    store = open_store(settings.database_url)
    try:
        if args.action == "add":
            try:
                options = json.loads(args.options)
            except json.JSONDecodeError as exc:
                raise BadRequest(f"--options is not JSON: {exc}") from None
            saved = cron_api.save_cron(store, {"name": args.name, "task_type": args.task_type, "cron_expr": args.cron_expr,
                                               "enabled": not args.disabled, "options": options})
            print(f"schedule {saved['id']} saved")
            return 0
        if args.action == "remove":
            cron_api.delete_cron(store, args.id)
            print(f"schedule {args.id} removed")
            return 0
        rows = cron_api.list_cron(store, zone(settings.timezone))
        if args.json:
            print_json(rows)
            return 0
        tz = zone(settings.timezone)
        for r in rows:
            print(f"{r['id']:>4}  {'on ' if r['enabled'] else 'off'}  {r['cron_expr']:<16} {r['task_type']:<18} "
                  f"{r['name']}  next {_when(r['next_run'], tz)}  last {_when(r['last_run'], tz)}"
                  f"{' ' + r['last_status'] if r['last_status'] else ''}")
        print(f"{len(rows)} schedules (times in {tz})")
        return 0
    finally:
        store.dispose()


def _when(ts: float | None, tz) -> str:
    from datetime import datetime

    return "-" if ts is None else datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")

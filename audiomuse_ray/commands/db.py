"""``db upgrade`` and ``db current``: the schema migrations by hand (every command also upgrades on start)."""

from __future__ import annotations

import argparse

from audiomuse_ray.commands.registry import command
from audiomuse_ray.settings import Settings, redact_url


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["upgrade", "current"],
                   help="upgrade: bring the database to this release's schema; current: show its revision")


@command("db", "database schema: upgrade it to this release, or show its revision", _setup)
def db_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.store import migrate, open_store, schema_version

    where = redact_url(settings.database_url)
    if args.action == "current":
        store = open_store(settings.database_url, create=False)
        try:
            found = schema_version(store)
        finally:
            store.dispose()
        state = "up to date" if found == migrate.head_revision() else f"this release wants {migrate.head_revision()}"
        print(f"{where}: schema revision {found or 'none (empty database)'} ({state})")
        return 0
    store = open_store(settings.database_url, create=False)
    try:
        found, now = migrate.upgrade(store.engine)
    finally:
        store.dispose()
    print(f"{where}: schema {found or 'empty'} -> {now}" if found != now else f"{where}: schema {now}, already up to date")
    return 0

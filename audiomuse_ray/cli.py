"""``audiomuse-ray``: the command line. Parses flags into one ``Settings`` and calls one function per command.

Commands register themselves in ``COMMANDS`` with their own argument setup, so a new tool (cluster,
chat...) is one function and one line here.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import fields
from typing import Callable

from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {}


def command(name: str, help: str, setup: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (help, setup, fn)
        return fn

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiomuse-ray",
        description="Self-hosted music analysis and playlist generation on Ray. Every option can also be "
        "set by the environment variable shown; a flag wins over the environment.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    settings_group = parser.add_argument_group("settings")
    for f in fields(Settings):
        kind = f.type if isinstance(f.type, type) else {"int": int, "float": float}.get(str(f.type), str)
        settings_group.add_argument(
            "--" + f.name.replace("_", "-"), dest=f"setting_{f.name}", type=kind, default=None,
            metavar=f.name.upper(), help=f"{f.metadata['help']} [{f.metadata['env']}]",
        )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _load_commands()
    for name, (help_text, setup, _fn) in COMMANDS.items():
        setup(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def _load_commands() -> None:
    """Import the modules that register commands (kept out of import time of this module's callers)."""
    import audiomuse_ray.commands  # noqa: F401


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {k[len("setting_"):]: v for k, v in vars(args).items() if k.startswith("setting_")}
    return Settings.load(**overrides)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.command:
        parser.print_help()
        return 2
    try:
        settings = settings_from_args(args)
        return COMMANDS[args.command][2](settings, args)
    except AudioMuseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


"""``audiomuse-ray``: the command line. Parses flags into one ``Settings`` and calls one function per command.

Commands register themselves (``commands.registry.command``) with their own argument setup, so a new tool
is one module in ``commands/`` and one name in its ``__init__``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from audiomuse_ray.commands.registry import (COMMANDS, SETTING_PREFIX, add_settings_arguments, command,  # noqa: F401
                                             print_json)
from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.settings import Settings



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiomuse-ray",
        description="Self-hosted music analysis and playlist generation on Ray. Every option can also be "
        "set by the environment variable shown; a flag wins over the environment. Options go before or "
        "after the command (the later one wins).",
    )
    add_settings_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _load_commands()
    for name, (help_text, setup, _fn) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        setup(command_parser)
        # usage shows the command's own options; the settings are listed below it
        command_parser.usage = command_parser.format_usage().removeprefix("usage: ").rstrip() + " [settings]"
        add_settings_arguments(command_parser)
    return parser


def _load_commands() -> None:
    """Import the modules that register commands (kept out of import time of this module's callers)."""
    import audiomuse_ray.commands  # noqa: F401


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings flags given (as strings) over the environment, through ``Settings.load``'s parser."""
    overrides = {k[len(SETTING_PREFIX):]: v for k, v in vars(args).items() if k.startswith(SETTING_PREFIX)}
    return Settings.load(**overrides)


def _interrupted_close(record: logging.LogRecord) -> bool:
    """Drop SQLAlchemy's "Exception closing connection" traceback when the exception is the Ctrl-C (or
    SIGTERM) that the command handles as a cancel: it lands wherever the driver happens to be, sometimes in
    a connection pool's close, and the user then saw a traceback for a normal cancel."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (isinstance(exc, KeyboardInterrupt) and record.name.startswith("sqlalchemy.pool"))


def main(argv: list[str] | None = None) -> int:
    """The ``audiomuse-ray`` program. Run as a program (no ``argv``), SIGTERM (``docker stop``, Kubernetes)
    acts as Ctrl-C: a job is cancelled and recorded as such, ``serve`` stops its applications."""
    if argv is None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_interrupted_close)
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

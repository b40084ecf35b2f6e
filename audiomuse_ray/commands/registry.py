"""How CLI commands register themselves: ``@command(name, help, setup)`` on a handler ``(settings, args) ->
exit code``; the settings flags every command also takes; JSON output. ``cli`` builds its parser from here."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from typing import Callable

from audiomuse_ray.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {}


def command(name: str, help: str, setup: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (help, setup, fn)
        return fn

    return register


SETTING_PREFIX = "setting_"


def add_settings_arguments(parser: argparse.ArgumentParser,
                           title: str = "settings (before or after the command)") -> None:
    """``-v`` and one ``--flag`` per setting, on the main parser and again on each command's, so options
    work after the command too. Defaults are ``SUPPRESS``: argparse copies every value a command's parser
    holds over the main parser's, and a default there would clobber a flag given before the command.
    Values stay strings, parsed by ``Settings.load`` like every other source. A flag the command already
    defines (``analyze --workers``) keeps the command's meaning."""
    group = parser.add_argument_group(title)
    _add_unless_taken(group, "-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                      help="log debug messages")
    for f in fields(Settings):
        _add_unless_taken(group, "--" + f.name.replace("_", "-"), dest=SETTING_PREFIX + f.name,
                          default=argparse.SUPPRESS, metavar=f.name.upper(),
                          help=f"{f.metadata['help']} [{f.metadata['env']}]")


def _add_unless_taken(group, *flags: str, **kwargs) -> None:
    try:
        group.add_argument(*flags, **kwargs)
    except argparse.ArgumentError:  # the command has its own flag of that name
        pass


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


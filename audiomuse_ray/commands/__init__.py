"""CLI commands, one module per area; importing this package registers them with ``cli.COMMANDS``."""

from audiomuse_ray.commands import doctor, library  # noqa: F401

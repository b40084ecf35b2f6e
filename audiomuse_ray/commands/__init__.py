"""CLI commands, one module per area; importing this package registers them (``commands.registry``)."""

from audiomuse_ray.commands import analysis, chat, clustering, db, doctor, library, schedule, serve  # noqa: F401
from audiomuse_ray.commands import collection  # noqa: F401

"""The API's routes, one ``APIRouter`` per area. ``ROUTERS`` is what the ingress mounts: a new area adds
its module here and nothing else changes."""

from __future__ import annotations

from audiomuse_ray.serve.routes import (artists, chat, collection, dashboard, health, jobs, playlists, radios,
                                       schedules, similarity)

ROUTERS = [health.router, similarity.router, artists.router, playlists.router, jobs.router, chat.router,
           radios.router, schedules.router, dashboard.router, collection.router]

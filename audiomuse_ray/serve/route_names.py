"""The route name Ray Serve labels each request's metrics with, found in one lookup.

A replica names every request by walking the app's routes with the scope it received, before the app runs.
Deployed at ``/api`` (or ``/chat``), that scope still carries the route prefix as ``root_path``, and
Starlette matches a route against the path *without* it ("/similar_tracks"). The API declares full paths
("/api/similar_tracks", see ``http_app.FULL_PATH_PREFIXES``), so the walk missed every one of its ~60
routes on every request: 0.16 ms of a fast route's ~2 ms of replica CPU here, for a label of just "/api".

``ServeRouteName`` goes first in the app's routes and answers that walk from a set of the fixed paths. The
app's own router never selects it: it matches only while ``root_path`` is one of those prefixes, and
``BearerGuard`` clears it before routing. Paths with parameters ("/api/status/{task_id}") are left to the
walk as before.
"""

from __future__ import annotations

import threading
from typing import Iterable

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, NoMatchFound


class ServeRouteName(BaseRoute):
    include_in_schema = False

    def __init__(self, paths: Iterable[str], prefixes: tuple[str, ...], idle_name: str):
        self._paths = frozenset(p for p in paths if "{" not in p)
        self._prefixes = prefixes
        self._idle_name = idle_name  # what ``path`` says outside a walk (Serve lists route patterns at start)
        self._last = threading.local()  # the walk reads ``path`` right after ``matches``, in the same thread

    def __reduce__(self):  # Serve pickles the app to ship it to the replicas; a thread-local does not pickle
        return type(self), (self._paths, self._prefixes, self._idle_name)

    @property
    def path(self) -> str:
        return getattr(self._last, "path", self._idle_name)

    def matches(self, scope) -> tuple[Match, dict]:
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if scope.get("type") == "http" and root in self._prefixes and path in self._paths and path.startswith(root):
            self._last.path = path[len(root):]  # Serve puts the root back in front of the name
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope, receive, send) -> None:
        raise HTTPException(404)  # unreachable: see the module's docstring

    def url_path_for(self, name: str, /, **path_params) -> None:
        raise NoMatchFound(name, path_params)

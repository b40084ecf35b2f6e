"""A hub on loopback HTTP for the sync tests: each route parses, calls one hub function, answers its
``to_json()`` (or the error's sentence with its status), as the real routes will. It can die after a
number of lookups, as a hub that goes away mid-sync."""

from __future__ import annotations

import threading

from audiomuse_ray.collection import hub
from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from tests.fakes.loopback import LoopbackServer, Request, Response


class LoopbackHub:
    def __init__(self, store: Store, tokens: str, model_version: str, *, die_after_lookups: int | None = None):
        self.store, self.model_version = store, model_version
        self.settings = Settings.load({"AUDIOMUSE_HUB_TOKENS": tokens})
        self.die_after_lookups = die_after_lookups
        self.lookups = self.pushes = 0
        self.server = LoopbackServer()
        base = "/api/collection/hub"
        self.server.route("GET", f"{base}/info", self._guard(lambda req, who: hub.hub_info(self.store, self.model_version)))
        self.server.route("POST", f"{base}/lookup", self._guard(self._lookup))
        self.server.route("POST", f"{base}/push", self._guard(self._push))

    @property
    def url(self) -> str:
        return self.server.url

    def _guard(self, fn):
        def route(req: Request) -> Response:
            try:
                who = hub.authorise(self.settings, req.headers.get("authorization"))
                return Response(200, fn(req, who).to_json())
            except AudioMuseError as exc:
                return Response(exc.http_status, {"error": str(exc)})
        return route

    def _lookup(self, req: Request, who: str):
        self.lookups += 1
        if self.die_after_lookups is not None and self.lookups > self.die_after_lookups:
            threading.Thread(target=self.stop, daemon=True).start()  # gone from now on
            raise _Dying()
        return hub.lookup(self.store, hub.LookupRequest.from_json(req.json()), model_version=self.model_version)

    def _push(self, req: Request, who: str):
        self.pushes += 1
        return hub.push(self.store, hub.PushRequest.from_json(req.json()), model_version=self.model_version,
                        contributor=who)

    def stop(self) -> None:
        self.server.httpd.shutdown()
        self.server.httpd.server_close()

    def __enter__(self) -> "LoopbackHub":
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        except OSError:
            pass


class _Dying(AudioMuseError):
    http_status = 503

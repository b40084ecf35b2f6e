"""A hub instance on loopback HTTP for the collection tests: the service's own API application (every router,
the access guard, the error handlers) served by uvicorn in a thread of the test process, over its own store
and settings, as one Serve replica serves it. It can die after a number of lookups, as a hub that goes
away mid-sync (the lookup that finds it dying is answered 503, then nothing answers on its port)."""

from __future__ import annotations

import threading
import time

import uvicorn

from audiomuse_ray.api import access
from audiomuse_ray.api.holder import LibraryHolder
from audiomuse_ray.providers import make_provider
from audiomuse_ray.serve import services as serve_services
from audiomuse_ray.serve.http_app import create_api
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from tests.conftest import free_port

LOOKUP = "/api/collection/hub/lookup"


class HubServer:
    def __init__(self, settings: Settings, store: Store, *, die_after_lookups: int | None = None):
        self.settings, self.store = settings, store
        self.die_after_lookups = die_after_lookups
        self.lookups = self.pushes = 0
        self.port = free_port()
        self._server = uvicorn.Server(uvicorn.Config(self._app(create_api()), host="127.0.0.1", port=self.port,
                                                     log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, name="hub-server", daemon=True)
        self._saved: tuple[dict, dict] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _app(self, api):
        """The API app, counting hub calls; after ``die_after_lookups`` lookups it shuts itself down."""

        async def app(scope, receive, send):
            if scope["type"] == "http" and scope["path"].startswith("/api/collection/hub/"):
                if scope["path"] == LOOKUP:
                    self.lookups += 1
                    if self.die_after_lookups is not None and self.lookups > self.die_after_lookups:
                        self._server.should_exit = True  # gone from now on
                        await send({"type": "http.response.start", "status": 503, "headers": []})
                        return await send({"type": "http.response.body", "body": b""})
                else:
                    self.pushes += scope["path"].endswith("/push")
            return await api(scope, receive, send)

        return app

    def __enter__(self) -> "HubServer":
        self._saved = (dict(access._state), dict(serve_services._installed))
        access.configure(self.settings.api_token, self.settings.host, self.settings.hub_tokens)
        serve_services.install(serve_services.Services(self.settings, self.store, LibraryHolder(self.store),
                                                       make_provider))
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self._server.started, "the hub server did not start"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __exit__(self, *exc) -> None:
        self.stop()
        if self._saved is not None:
            access._state.clear()
            access._state.update(self._saved[0])
            serve_services._installed.clear()
            serve_services._installed.update(self._saved[1])

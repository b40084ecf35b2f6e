"""What a route needs from its replica: settings, the store, the library holder and the media provider.

A replica (one process) builds one ``Services`` in its constructor and installs it here; routes receive it
through the FastAPI dependency ``services``. The state lives in this module, not in the deployment class,
because Serve ships the ingress class by value: a global beside it would not be the one the routes read.
Tests install their own ``Services`` and mount the same routers on a plain FastAPI app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from audiomuse_ray.api.holder import LibraryHolder
from audiomuse_ray.errors import ConfigurationError
from audiomuse_ray.providers.base import MediaProvider
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    holder: LibraryHolder
    make_provider: Callable[[Settings], MediaProvider]
    _provider: MediaProvider | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def provider(self) -> MediaProvider:
        """The media provider, made on first use (a remote one may be down when the replica starts)."""
        with self._lock:
            if self._provider is None:
                self._provider = self.make_provider(self.settings)
            return self._provider


_installed: dict[str, Services] = {}


def install(services: Services) -> None:
    _installed["current"] = services


async def services() -> Services:
    """FastAPI dependency: the replica's services. A coroutine, because FastAPI hands a plain function to a
    worker thread on every request (a thread hop that cost the hot route about a tenth of its time)."""
    return current_services()


def current_services() -> Services:
    """The services installed in this process."""
    try:
        return _installed["current"]
    except KeyError:
        raise ConfigurationError("The API is not set up in this process (no services installed).") from None

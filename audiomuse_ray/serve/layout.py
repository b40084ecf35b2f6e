"""Which Serve applications make up the service and where each is routed:

    /          audiomuse-ui    the Gradio UI (one replica), also the 200 AudioMuse-AI's plugins look for
    /api       audiomuse       the API deployment (``--replicas``), its routes declared as full "/api/..." paths
    /chat      audiomuse-chat  the same API class, one replica, for AudioMuse-AI's "/chat/api/..." routes

Serve routes a request to the application with the longest matching prefix, so "/api/…" and "/chat/…"
never reach the UI. ``serve_config.yaml`` lists the same three for ``serve run``/``serve deploy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audiomuse_ray.serve.app import APP_NAME, build
from audiomuse_ray.serve.ui_app import UI_APP_NAME, build_ui
from audiomuse_ray.settings import Settings

CHAT_APP_NAME = "audiomuse-chat"
API_PREFIX, CHAT_PREFIX, UI_PREFIX = "/api", "/chat", "/"


@dataclass(frozen=True)
class ServeApp:
    name: str
    route_prefix: str
    app: Any


def applications(settings: Settings, replicas: int = 1, reload_interval_s: float = 10.0,
                 api_url: str = "", api_cpus: float = 0.5, scheduler: bool = False) -> list[ServeApp]:
    """The service's applications, API first (the UI's first page load calls it). ``api_cpus``: what each
    API replica reserves (the chat replica and the UI reserve none); ``scheduler``: the API replicas keep
    the scheduler actor alive (``audiomuse-ray serve`` asks for it)."""
    return [
        ServeApp(APP_NAME, API_PREFIX, build(settings, reload_interval_s, replicas, num_cpus=api_cpus,
                                             scheduler=scheduler)),
        ServeApp(CHAT_APP_NAME, CHAT_PREFIX, build(settings, reload_interval_s, 1, num_cpus=0)),
        ServeApp(UI_APP_NAME, UI_PREFIX, build_ui(settings, api_url)),
    ]


def names() -> list[str]:
    return [APP_NAME, CHAT_APP_NAME, UI_APP_NAME]

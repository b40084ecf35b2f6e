"""The UI as its own Serve application: one replica (Gradio keeps each browser session's queue and state
in one process), no CPU reserved, at route prefix "/" next to the API at "/api" and "/chat".

Gradio objects cannot be pickled, so the app is built inside the replica: Serve calls
``__serve_build_asgi_app__`` after the constructor, which mounts the Blocks on a fresh FastAPI app.
The UI calls the API over HTTP like any client (``api_url``: by default this server's own port on
loopback), so it also works unchanged as ``python gradio_ui.py --api URL`` against a remote server.
"""

from __future__ import annotations

from ray import serve

from audiomuse_ray.settings import Settings

UI_APP_NAME = "audiomuse-ui"


@serve.deployment(name="AudioMuseUi", num_replicas=1, ray_actor_options={"num_cpus": 0},
                  logging_config={"enable_access_log": False, "log_level": "WARNING"})
@serve.ingress()
class AudioMuseUi:
    def __init__(self, api_url: str, token: str = ""):
        self.api_url, self.token = api_url, token

    def __serve_build_asgi_app__(self):
        from fastapi import FastAPI

        from audiomuse_ray.ui.app import UiOptions, mount

        return mount(FastAPI(title="audiomuse-ray UI", docs_url=None, redoc_url=None, openapi_url=None),
                     UiOptions(self.api_url, self.token))


def local_api_url(settings: Settings) -> str:
    """Where a replica on this machine reaches the API: the server's own port, on loopback when it binds
    every interface."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}"


def build_ui(settings: Settings, api_url: str = ""):
    """The bound UI application for ``serve.run(..., route_prefix="/")``."""
    return AudioMuseUi.bind(api_url or local_api_url(settings), settings.api_token)


def app(args: dict[str, object]):
    """Application builder for ``serve run serve_app:ui [key=value ...]`` and serveConfigV2: the settings
    by name (``port`` and ``host`` say where the API is) plus ``api_url`` to point the UI elsewhere."""
    from audiomuse_ray.errors import ConfigurationError

    args = dict(args or {})
    api_url = str(args.pop("api_url", "") or "")
    unknown = sorted(set(args) - set(Settings.names()))
    if unknown:
        raise ConfigurationError(
            f"Unknown Serve application argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
            f"Valid names: {', '.join(['api_url', *Settings.names()])}."
        )
    return build_ui(Settings.load(**args), api_url)

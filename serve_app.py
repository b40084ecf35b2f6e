"""Ray Serve entry points, run from the repository root:

    serve run serve_config.yaml               # the whole service: UI at /, API at /api, chat routes at /chat
    serve run serve_app:app port=8001 ...     # the API application alone (settings by name, AUDIOMUSE_*)
    serve run serve_app:ui api_url=http://…   # the UI application alone

The applications live in ``audiomuse_ray/serve/``; ``audiomuse-ray serve`` starts the same three.
"""

from audiomuse_ray.serve.app import AudioMuseApi, app, build
from audiomuse_ray.serve.ui_app import AudioMuseUi, build_ui
from audiomuse_ray.serve.ui_app import app as ui

__all__ = ["AudioMuseApi", "AudioMuseUi", "app", "build", "build_ui", "ui"]

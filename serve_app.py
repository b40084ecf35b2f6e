"""Ray Serve entry point: ``serve run serve_app:app`` (settings from AUDIOMUSE_* variables, or
``serve run serve_app:app port=8001 music_dir=/music``). The application lives in
``audiomuse_ray/serve/app.py``; ``audiomuse-ray serve`` starts the same thing."""

from audiomuse_ray.serve.app import AudioMuseApi, app, build

__all__ = ["AudioMuseApi", "app", "build"]

"""``audiomuse-ray serve``: the HTTP API on Ray Serve, until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import time

from audiomuse_ray.cli import command
from audiomuse_ray.settings import Settings


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicas", type=int, default=1, help="API replicas (each holds the index in memory)")
    p.add_argument("--reload-interval", type=float, default=10.0, metavar="SECONDS",
                   help="how often replicas look for a newer index")


def start_serve(settings: Settings, replicas: int = 1, reload_interval_s: float = 10.0) -> str:
    """Start Serve on the settings' host/port and deploy the API; returns its base URL."""
    from audiomuse_ray.ray_runtime import connect_ray

    connect_ray(settings)  # first: a local Ray takes the ingress settings from the environment
    from ray import serve

    from audiomuse_ray.serve.app import APP_NAME, build

    serve.start(http_options={"host": settings.host, "port": settings.port})
    serve.run(build(settings, reload_interval_s, replicas), name=APP_NAME, route_prefix="/")
    return f"http://{settings.host}:{settings.port}"


@command("serve", "serve the HTTP API (AudioMuse-AI routes) on Ray Serve until Ctrl-C", _setup)
def serve_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from ray import serve

    url = start_serve(settings, args.replicas, args.reload_interval)
    print(f"audiomuse-ray API on {url} (health: {url}/, docs: {url}/api/docs). Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
        serve.shutdown()
    return 0

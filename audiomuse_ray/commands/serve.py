"""``audiomuse-ray serve``: the UI and the HTTP API on Ray Serve, until Ctrl-C (SIGINT) or SIGTERM
(``docker stop``). The applications and their route prefixes are listed in ``audiomuse_ray/serve/layout.py``;
the API's replicas keep the schedule table's scheduler actor alive (``schedule/scheduler.py``).

Stopping is bounded. Serve's own ``serve.shutdown()`` lets each HAProxy-ingress replica drain for at least
30 s (so that load balancers of a cluster notice) and then warns that the controller did not stop in time;
for the local Ray this command started that drain protects nobody. So a local Ray is simply shut down,
which ends every actor with it, and the HAProxy processes it ran (recognised by their state folder) are
stopped after it. On a cluster (or a Ray this process had joined before) only our application is deleted, without waiting
for its drain there.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass

from audiomuse_ray.commands.registry import command
from audiomuse_ray.settings import Settings

STATE_ENV = "RAY_SERVE_HAPROXY_SERVER_STATE_BASE"  # where ingress.py puts HAProxy's config and sockets
log = logging.getLogger(__name__)


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicas", type=int, default=1, help="API replicas (each holds the index in memory)")
    p.add_argument("--reload-interval", type=float, default=10.0, metavar="SECONDS",
                   help="how often replicas look for a newer index")


@dataclass(frozen=True)
class Started:
    """What ``start_serve`` started, so that ``stop_serve`` takes down exactly that."""

    url: str
    local_ray: bool  # a Ray of our own (stopped with us), not a cluster's
    connected_here: bool  # we called ray.init (a caller's connection is left as it was)
    haproxy_state_dir: str  # our HAProxy folder ("" when HAProxy's state is not ours to clean)


def start_serve(settings: Settings, replicas: int = 1, reload_interval_s: float = 10.0) -> Started:
    """Start Serve on the settings' host/port and deploy the API, the chat routes and the UI. A failed or
    interrupted start stops what it had started before raising."""
    import ray

    from audiomuse_ray.runtime.ray_cluster import connect_ray

    connected_here = not ray.is_initialized()
    local = connected_here and not settings.ray_address
    state_before = os.environ.get(STATE_ENV)
    connect_ray(settings)  # first: a local Ray takes the ingress settings from the environment
    state_dir = os.environ.get(STATE_ENV, "")
    started = Started(url=f"http://{settings.host}:{settings.port}", local_ray=local, connected_here=connected_here,
                      haproxy_state_dir=state_dir if local and state_dir != state_before else "")
    from ray import serve

    from audiomuse_ray.serve.layout import applications

    try:
        serve.start(http_options={"host": settings.host, "port": settings.port})
        for application in applications(settings, replicas, reload_interval_s, scheduler=True):
            serve.run(application.app, name=application.name, route_prefix=application.route_prefix)
    except BaseException:
        stop_serve(started)
        raise
    return started


def stop_serve(started: Started) -> None:
    """Take down what ``start_serve`` started, within a few seconds (see the module docstring)."""
    import ray
    from ray import serve

    from audiomuse_ray.serve.layout import names

    if not started.local_ray:
        for name in names():
            try:
                serve.delete(name, _blocking=False)  # the cluster's controller drains and removes it
            except Exception as exc:  # noqa: BLE001  (a start that failed early left nothing to delete)
                log.warning("could not delete the %r application on the cluster: %s", name, exc)
        if started.connected_here:
            ray.shutdown()
        return
    ray.shutdown()
    if started.haproxy_state_dir:
        stopped = stop_haproxy(started.haproxy_state_dir)
        if stopped:
            log.info("stopped HAProxy process(es) %s that outlived Ray", stopped)
        shutil.rmtree(started.haproxy_state_dir, ignore_errors=True)


def stop_haproxy(state_dir: str, timeout_s: float = 2.0) -> list[int]:
    """Stop the HAProxy processes whose command line names ``state_dir`` (SIGTERM, then SIGKILL); their
    Ray actor is gone, so nothing else will, and they would keep the API port. Returns their pids."""
    from audiomuse_ray.runtime.ingress import _haproxy_processes

    folder = os.path.join(os.path.abspath(state_dir), "")
    pids = [int(pid) for pid, args in _haproxy_processes() if any(a.startswith(folder) for a in args)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.05)
        if not any(_alive(pid) for pid in pids):
            break
    return pids


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_for_stop_signal() -> int:
    """Block until SIGINT or SIGTERM arrives; returns its number. After the first one the default
    handlers are back, so a second Ctrl-C interrupts a stop that hangs."""
    received: list[int] = []
    arrived = threading.Event()

    def on_signal(signum, _frame) -> None:
        received.append(signum)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        arrived.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not arrived.wait(1.0):
        pass
    return received[0]


@command("serve", "serve the UI and the HTTP API (AudioMuse-AI routes) on Ray Serve until Ctrl-C", _setup)
def serve_cmd(settings: Settings, args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # while starting, SIGTERM acts as Ctrl-C does
    started = start_serve(settings, args.replicas, args.reload_interval)
    url = started.url
    print(f"audiomuse-ray on {url} (UI: {url}/, health: {url}/api/health, API docs: {url}/api/docs). "
          "Ctrl-C stops it.", flush=True)
    signum = wait_for_stop_signal()
    print(f"stopping ({signal.Signals(signum).name})", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    stop_serve(started)
    print(f"stopped in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    return 0

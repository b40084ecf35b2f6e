"""How HTTP reaches the API replicas: Ray Serve's HAProxy ingress (the default) or its Python proxy.

With ``haproxy`` (Ray >= 2.56, HAProxy ships in the ``ray[serve]`` wheel on Linux) each API replica runs
its own HTTP server and HAProxy balances clients straight onto them. The classic path goes client ->
Python proxy actor -> Ray actor call -> replica, which costs about 10 ms a request on a small machine;
through HAProxy an empty request takes about 0.6 ms and a similar-tracks query at 100k tracks about 3.

Serve reads these switches from the environment when Ray starts, so they are set before ``ray.init`` of a
local Ray (see ``runtime.ray_cluster.connect_ray``) and must be in the cluster's environment for a remote one
(the KubeRay manifest must set them). HAProxy keeps its config, admin socket and state in one folder, and
binds a stats and a metrics port; a private folder and free ports per local Ray let several instances
(tests, a benchmark, the service) share a machine.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import tempfile
import time

log = logging.getLogger(__name__)
HAPROXY, PROXY = "haproxy", "proxy"
STATE_PREFIX = "amr-"
INGRESS_MODES = (HAPROXY, PROXY)


# Ray gives its workers ports 10002-19999 by default; everything else it binds comes from the kernel's
# ephemeral range, as does the local end of every outgoing connection (Ray opens hundreds).
_RAY_WORKER_PORTS_END = 20000


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port(rng: random.Random | None = None) -> int:
    """A TCP port free on every interface that neither the kernel's ephemeral range nor Ray's worker
    ports overlap. A port the kernel hands out (bind to 0) is free only for that instant: Ray's many
    outgoing connections draw their local ports from the same range, and one of them took HAProxy's
    stats port between choosing and binding in a CI run. Picked at random so that concurrent callers
    rarely pick alike; falls back to the kernel where the range leaves no room."""
    rng = rng or random.Random()
    low, _high = _ephemeral_range()
    if low - _RAY_WORKER_PORTS_END >= 1000:
        for _ in range(200):
            port = rng.randrange(_RAY_WORKER_PORTS_END, low)
            if _bindable(port):
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("", port))
            return True
        except OSError:
            return False


def ingress_env(mode: str, state_dir: str | None = None, cpus: int | None = None) -> dict[str, str]:
    """The RAY_SERVE_* variables for ``mode``; empty for the Python proxy (Serve's own defaults)."""
    if mode == PROXY:
        return {}
    if mode != HAPROXY:
        raise ValueError(f"unknown ingress mode {mode!r}; expected one of {', '.join(INGRESS_MODES)}")
    # Serve adds a 56-character node folder and HAProxy caps the admin socket path at 97 characters
    state_dir = state_dir or tempfile.mkdtemp(prefix=STATE_PREFIX, dir="/tmp" if os.access("/tmp", os.W_OK) else None)
    return {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        # replicas run user code on the server's event loop and buffer request logs
        "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": os.path.join(state_dir, "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": os.path.join(state_dir, "admin.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": state_dir,
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": os.path.join(state_dir, "server-state"),
        "RAY_SERVE_HAPROXY_STATS_PORT": str(free_port()),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(free_port()),
        "RAY_SERVE_HAPROXY_NBTHREAD": str(max(1, min(4, cpus or os.cpu_count() or 1))),
        # behind HAProxy, Serve's own proxy binds a fixed 8500 (gRPC 9500): a second instance on the host
        # (another user's, a container on the host's network) would fail to start on it
        "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT": str(free_port()),
        "RAY_SERVE_FALLBACK_PROXY_GRPC_PORT": str(free_port()),
    }


def _read_proc(pid: str, name: str) -> str:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _haproxy_processes() -> list[tuple[str, list[str]]]:
    """(pid, command line) of every running HAProxy on this machine; none where there is no /proc."""
    if not os.path.isdir("/proc"):
        return []
    return [(pid, _read_proc(pid, "cmdline").split("\0")) for pid in filter(str.isdigit, os.listdir("/proc"))
            if _read_proc(pid, "comm").strip() == "haproxy"]


def reap_orphaned_haproxy() -> list[int]:
    """Stop HAProxy processes a killed earlier run of ours left behind: their Ray actor is gone, so
    nothing will stop them, and they still hold the API port. Ours are recognised by the STATE_PREFIX
    folder of their config; a live one's parent is a Ray worker (``ray::HAProxyManager``)."""
    reaped = []
    for pid, args in _haproxy_processes():
        if not any(os.path.basename(os.path.dirname(os.path.dirname(a))).startswith(STATE_PREFIX) for a in args):
            continue
        ppid = _read_proc(pid, "stat").rsplit(")", 1)[-1].split()[1:2]
        parent = _read_proc(ppid[0], "cmdline") if ppid else ""
        if "ray::" in parent:
            continue  # a running instance's
        try:
            os.kill(int(pid), signal.SIGTERM)
            reaped.append(int(pid))
        except OSError:
            continue
    if reaped:
        log.warning("stopped %d HAProxy process(es) left behind by an earlier run: %s", len(reaped), reaped)
        time.sleep(0.5)  # let them release the port
    return reaped


def remove_stale_state(root: str = "/tmp", older_than_s: float = 86400.0) -> list[str]:
    """Delete our HAProxy folders from earlier runs (each start makes one): those not modified for
    ``older_than_s`` and not named on any running HAProxy's command line. The age keeps a folder that
    another instance created a moment ago, before its HAProxy started."""
    import shutil

    try:
        names = [n for n in os.listdir(root) if n.startswith(STATE_PREFIX)]
    except OSError:
        return []
    in_use = " ".join(" ".join(args) for _pid, args in _haproxy_processes())
    removed = []
    for name in names:
        path = os.path.join(root, name)
        try:
            stale = time.time() - os.stat(path).st_mtime > older_than_s
        except OSError:
            continue
        if stale and path not in in_use:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def apply_ingress_env(mode: str, cpus: int | None = None) -> dict[str, str]:
    """Put ``ingress_env(mode)`` into this process's environment (a local Ray inherits it) unless the
    user set HAProxy mode's switch explicitly; returns what was set."""
    if "RAY_SERVE_ENABLE_HA_PROXY" in os.environ:
        return {}
    if mode == HAPROXY:
        reap_orphaned_haproxy()
        remove_stale_state()
    env = ingress_env(mode, cpus=cpus)
    os.environ.update(env)
    return env

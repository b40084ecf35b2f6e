"""Finding and stopping exactly the Ray processes a test started (``ray stop`` would stop every Ray on the
machine, the session's own test cluster included): those whose command line names the test's private temp
folder, and the descendants of a process the test launched."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process visible in /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        out[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmdline)
    return out


def ray_processes(temp_dir: str, root_pid: int | None = None) -> set[int]:
    """The processes of a Ray started with ``--temp-dir temp_dir`` (and of ``root_pid``'s tree): a worker whose
    raylet died is re-parented, but its command line still names the session folder."""
    procs = processes()
    found = {pid for pid, (_ppid, cmd) in procs.items() if temp_dir in cmd}
    frontier = [root_pid] if root_pid else []
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _cmd) in procs.items() if ppid == parent]
        found.update(children)
        frontier.extend(children)
    if root_pid in procs:
        found.add(root_pid)
    return found


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_ray(temp_dir: str, root_pid: int | None = None, grace_s: float = 20.0) -> set[int]:
    """SIGTERM, then SIGKILL after ``grace_s``; returns what is still there afterwards (should be nothing)."""
    pids = ray_processes(temp_dir, root_pid)
    _signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and ray_processes(temp_dir, root_pid) & pids:
        time.sleep(0.5)
    _signal(ray_processes(temp_dir, root_pid), signal.SIGKILL)
    time.sleep(0.5)
    return ray_processes(temp_dir, root_pid)

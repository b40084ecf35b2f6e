"""``audiomuse-ray serve`` as a person runs it: options after the command, then Ctrl-C or ``docker stop``.

The server runs as a real subprocess in a session of its own, so every process it starts (raylet, GCS,
workers, HAProxy) can be told apart from other Rays on this machine by its session id, and a Ctrl-C can be
sent to its whole process group as a terminal does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from audiomuse_ray.runtime.ingress import STATE_PREFIX
from tests.conftest import REPO, free_port

STARTUP_TIMEOUT_S = 90
STOP_LIMIT_S = 10


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (index 0 is the state); None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def session_processes(sid: int) -> dict[tuple[int, str], str]:
    """{(pid, start time): command line} of the live processes in session ``sid``."""
    out = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        stat = _stat(int(name))
        if stat and stat[0] != "Z" and int(stat[3]) == sid:
            out[(int(name), stat[19])] = _cmdline(int(name))
    return out


def still_running(procs: dict[tuple[int, str], str]) -> dict[tuple[int, str], str]:
    alive = {}
    for (pid, start), cmd in procs.items():
        stat = _stat(pid)
        if stat and stat[0] != "Z" and stat[19] == start:
            alive[(pid, start)] = cmd
    return alive


def state_folder(haproxy_cmd: str) -> str:
    """The run's HAProxy folder (``/tmp/amr-…``) from a HAProxy command line."""
    for arg in haproxy_cmd.split(" "):
        for folder in (Path(arg), *Path(arg).parents):
            if folder.name.startswith(STATE_PREFIX):
                return str(folder)
    raise AssertionError(f"no {STATE_PREFIX} folder in {haproxy_cmd!r}")


def haproxy_mentioning(folder: str) -> list[int]:
    return [int(p) for p in filter(str.isdigit, os.listdir("/proc"))
            if folder in _cmdline(int(p)) and "haproxy" in _cmdline(int(p)).split(" ")[0]]


def wait_until_up(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode} before answering:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                # HAProxy answers a moment before serve.run returns and the command says it is up
                if resp.status == 200 and "Ctrl-C stops it" in log.read_text():
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"serve did not answer GET {url} and say so within {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def fake_haproxy(tmp_path: Path, state_dir: Path) -> subprocess.Popen:
    """A process named ``haproxy`` (a Python behind a symlink) whose command line names ``state_dir``."""
    link = tmp_path / "bin" / "haproxy"
    link.parent.mkdir(exist_ok=True)
    if not link.exists():
        link.symlink_to(sys.executable)
    return subprocess.Popen([str(link), "-c", "import time; time.sleep(60)", "-f", str(state_dir / "node" / "haproxy.cfg")])


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds HAProxy through /proc")
def test_stop_haproxy_stops_only_the_ones_of_its_state_folder(tmp_path: Path):
    from audiomuse_ray.commands.serve import stop_haproxy

    ours, theirs = fake_haproxy(tmp_path, tmp_path / "amr-ours"), fake_haproxy(tmp_path, tmp_path / "amr-ours2")
    try:
        time.sleep(0.3)  # let both exec
        assert stop_haproxy(str(tmp_path / "amr-ours")) == [ours.pid]
        assert ours.wait(timeout=5) is not None and theirs.poll() is None
    finally:
        for proc in (ours, theirs):
            proc.kill()
            proc.wait()


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="tells processes apart through /proc")
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_serve_stops_quickly_and_leaves_nothing_behind(tmp_path: Path, how: str):
    (tmp_path / "music").mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIOMUSE_", "RAY_SERVE_", "RAY_ADDRESS"))}
    cmd = [sys.executable, "-m", "audiomuse_ray", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"),
           "--music-dir", str(tmp_path / "music"), "--models-dir", str(REPO / "models")]
    log = tmp_path / "serve.log"
    with open(log, "w") as out:  # a file, not a pipe nobody reads while it runs
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    started: dict[tuple[int, str], str] = {}
    try:
        wait_until_up(proc, f"http://127.0.0.1:{port}/", log)
        started = session_processes(proc.pid)
        assert any("raylet" in cmd.split(" ")[0] for cmd in started.values()), started
        haproxies = [cmd for cmd in started.values() if "haproxy" in cmd.split(" ")[0]]
        assert haproxies, "the default ingress runs HAProxy: " + repr(started)
        state_dir = state_folder(haproxies[0])

        t0 = time.monotonic()
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
        else:
            proc.send_signal(signal.SIGTERM)  # what docker stop does: the main process only
        try:
            proc.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running {STOP_LIMIT_S} s after {how}")
        took = time.monotonic() - t0
        output = log.read_text()
        assert proc.returncode == 0, output[-3000:]
        assert "failed to shut down" not in output, output[-3000:]

        deadline = time.monotonic() + 3  # processes that were told to stop may take a moment to go
        while still_running(started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert still_running(started) == {}, f"left behind after {took:.1f} s: {still_running(started)}"
        assert haproxy_mentioning(state_dir) == []
        assert not os.path.exists(state_dir), "the run's HAProxy folder is removed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid, _start in still_running(started):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

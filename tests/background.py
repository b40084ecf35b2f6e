"""A preparation the session starts early and a fixture waits for later: one command in its own process
group, its output in a log file. The image build (``tests/docker/image_build.py``) and the corpus's first
build (``tests/corpus_build.py``) run this way, beside the first tests instead of in front of the test
that needs them.

``./test.sh`` runs the suite in two pytest-xdist workers, and both collect the same tests and ask for the
same builds. A lock file beside the log lets one of them run the command; the command's exit status lands
in a status file stamped with the run's id, which the other worker waits for. A worker whose builder died
without a status takes the lock and runs the command itself.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

_LOCAL_RUN = uuid.uuid4().hex
# the command, then its status written atomically: "<run id> <exit status>"
_WRAPPER = ('rc=0; "$@" || rc=$?; printf "%s %s\\n" "$BACKGROUND_RUN" "$rc" > "$BACKGROUND_STATUS.tmp" '
            '&& mv -f "$BACKGROUND_STATUS.tmp" "$BACKGROUND_STATUS"; exit $rc')


def uses(item, fixture: str) -> bool:
    """Whether a collected test needs ``fixture`` (directly or through another fixture)."""
    return fixture in getattr(item, "fixturenames", ())


def run_id() -> str:
    """The same for every worker of one pytest run (xdist exports its run id to them), new for each run."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or _LOCAL_RUN


def in_worker() -> bool:
    """Whether this process is one of several pytest-xdist workers (another may wait on our builds)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1


class Background:
    def __init__(self, log: Path):
        self.log = log
        self._lock_path = log.with_name(log.name + ".lock")
        self._status_path = log.with_name(log.name + ".status")
        self._proc: subprocess.Popen | None = None
        self._lock_fd: int | None = None
        self._argv: list[str] | None = None

    @property
    def started(self) -> bool:
        """Whether this run has started the command (in this process or another worker)."""
        return self._proc is not None or self._argv is not None

    def start(self, argv: list[str]) -> None:
        """Runs ``argv`` in the background unless this run started it already, here or in another worker."""
        self._argv = argv
        if self._proc is not None or self.status() is not None:
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # another worker runs it
            return
        if self.status() is not None:  # it ended between our two looks
            os.close(fd)
            return
        self._lock_fd = fd
        env = dict(os.environ, BACKGROUND_RUN=run_id(), BACKGROUND_STATUS=str(self._status_path))
        with self.log.open("w") as out:
            self._proc = subprocess.Popen(["bash", "-c", _WRAPPER, "background", *argv], stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True, env=env)

    def status(self) -> int | None:
        """The command's exit status in this run, once it has ended (wherever it ran); else None."""
        try:
            run, rc = self._status_path.read_text().split()
        except (OSError, ValueError):
            return None
        return int(rc) if run == run_id() else None

    def wait(self, timeout_s: float) -> int:
        """The command's exit status once it is done; stopped (ours) or TimeoutError past ``timeout_s``."""
        assert self._argv is not None, "wait() before start()"
        deadline = time.monotonic() + timeout_s
        while True:
            if self._proc is not None:
                try:
                    return self._proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.stop()
                    raise
            rc = self.status()
            if rc is not None:
                return rc
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.log.name}: another worker's command ran past {timeout_s:g} s")
            self.start(self._argv)  # runs it here if its builder is gone without a status
            if self._proc is None:
                time.sleep(1.0)

    def stop(self, let_finish: bool = False) -> None:
        """Ends the command if it still runs (its whole process group), or with ``let_finish`` waits for it
        (another worker may need it), and forgets it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            if let_finish:
                proc.wait()
            else:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

"""A preparation the session starts early and a fixture waits for later: one command in its own process
group, its output in a log file. The image build (``tests/docker/image_build.py``) and the corpus's first
build (``tests/corpus_build.py``) run this way, beside the first tests instead of in front of the test
that needs them."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


def uses(item, fixture: str) -> bool:
    """Whether a collected test needs ``fixture`` (directly or through another fixture)."""
    return fixture in getattr(item, "fixturenames", ())


class Background:
    def __init__(self, log: Path):
        self.log = log
        self._proc: subprocess.Popen | None = None

    @property
    def started(self) -> bool:
        return self._proc is not None

    def start(self, argv: list[str]) -> None:
        """Runs ``argv`` in the background, unless it was started already."""
        if self._proc is not None:
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as out:
            self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout_s: float) -> int:
        """The command's exit status once it is done; it is stopped if that takes over ``timeout_s``."""
        assert self._proc is not None, "wait() before start()"
        try:
            return self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise

    def stop(self) -> None:
        """Ends the command if it still runs (its whole process group), and forgets it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

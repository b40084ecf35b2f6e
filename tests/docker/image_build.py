"""The test image's build, started as the session starts when the image tests are selected.

A cold build (debootstrap base, pip wheels, the model conversion) took 3-4 minutes, waited for by the first
image test in the middle of the session. It is mostly downloading and unpacking, which the session's first
minutes leave room for on two cores, so ``tests/conftest.py`` starts it at collection and the ``image``
fixture only waits for it (or builds then, when nothing started it).
"""

from __future__ import annotations

import os
import signal
import subprocess
from tests.conftest import REPO

TAG = "audiomuse-ray:test"
ARTIFACTS = REPO / "test-artifacts" / "docker"
LOG = ARTIFACTS / "build.log"
_running: dict[str, subprocess.Popen] = {}


def wanted(items) -> bool:
    """Whether a selected test uses the ``image`` fixture and a Docker engine is there (test.sh says so)."""
    return os.environ.get("AUDIOMUSE_TEST_DOCKER") == "1" and any(
        "image" in getattr(item, "fixturenames", ()) for item in items)


def start() -> None:
    """Starts the build in the background (once), its output in ``LOG``."""
    if "build" in _running:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with LOG.open("w") as out:
        _running["build"] = subprocess.Popen([str(REPO / "scripts" / "docker-test-image.sh"), TAG], stdout=out,
                                             stderr=subprocess.STDOUT, start_new_session=True)


def finish(timeout_s: float) -> int:
    """The build's exit status, once it is done; started here if it was not yet."""
    start()
    proc = _running["build"]
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stop()
        raise


def stop() -> None:
    """Ends a build still running (its whole process group: the script, docker's client)."""
    proc = _running.pop("build", None)
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

"""The test image's build, started as the session starts when the image tests are selected.

A cold build (debootstrap base, pip wheels, the model conversion) took 3-4 minutes, waited for by the first
image test in the middle of the session. It is mostly downloading and unpacking, which the session's first
minutes leave room for on two cores, so ``tests/conftest.py`` starts it at collection (and runs the image
tests last) and the ``image`` fixture only waits for it (or builds then, when nothing started it).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from tests.background import Background, uses
from tests.conftest import REPO

TAG = "audiomuse-ray:test"
POSTGRES_TAG = "audiomuse-test-postgres"
ARTIFACTS = REPO / "test-artifacts" / "docker"
LOG = ARTIFACTS / "build.log"
_build = Background(LOG)


def wanted(items) -> bool:
    """Whether a selected test uses the ``image`` fixture and a Docker engine is there (test.sh says so)."""
    return os.environ.get("AUDIOMUSE_TEST_DOCKER") == "1" and any(uses(item, "image") for item in items)


def postgres_build(context: Path) -> list[str]:
    """The compose test's PostgreSQL image (``postgres.Dockerfile`` on the image's locally made base)."""
    base = os.environ.get("AUDIOMUSE_DOCKER_BASE", "audiomuse-ray-base:bookworm-debootstrap")
    return ["docker", "build", "-q", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", POSTGRES_TAG,
            "-f", str(Path(__file__).with_name("postgres.Dockerfile")), str(context)]


def start() -> None:
    """Starts the build in the background (once), its output in ``LOG``: the image, then the compose test's
    PostgreSQL image (the compose test's own build of it then finds it in Docker's cache)."""
    context = ARTIFACTS / "empty-context"
    context.mkdir(parents=True, exist_ok=True)
    script = f"{shlex.quote(str(REPO / 'scripts' / 'docker-test-image.sh'))} {TAG} && DOCKER_BUILDKIT=0 " + shlex.join(
        postgres_build(context))
    _build.start(["bash", "-c", script])


def finish(timeout_s: float) -> int:
    """The build's exit status, once it is done; started here if it was not yet."""
    start()
    return _build.wait(timeout_s)


def stop(let_finish: bool = False) -> None:
    _build.stop(let_finish)

"""The real-music corpus (``shared/corpus/make_corpus.sh``): built once per machine and cached in ``CACHE``.

A first build installs the game-music packages and encodes 72 clips: about two minutes, mostly waiting on
apt and ffmpeg. When a selected test needs the corpus and the cache lacks it, ``tests/conftest.py`` starts
the build at collection and runs the tests that need no corpus first; the ``corpus`` fixture waits for it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.background import Background, uses
from tests.conftest import CACHE, REPO

NAME, ARGS = "corpus-clip30", ("--clip", "30")  # 30 s clips: a library analysed in seconds
OUT = CACHE / NAME
PARTIAL = OUT.with_name(OUT.name + ".partial")
_build = Background(REPO / "test-artifacts" / "corpus" / "build.log")


def _script() -> Path | None:
    for candidate in (REPO / "shared" / "corpus" / "make_corpus.sh", REPO.parent / "shared" / "corpus" / "make_corpus.sh"):
        if candidate.exists():
            return candidate
    return None


def cached() -> bool:
    return (OUT / "manifest.tsv").exists() and (OUT / "broken").is_dir()


def why_not() -> str | None:
    """Why no corpus can be built on this machine, or None."""
    if _script() is None:
        return "shared/corpus/make_corpus.sh not found beside the repository: no corpus to test on"
    if os.geteuid() != 0 and not shutil.which("ffmpeg"):
        return "the corpus needs root (apt-get) or ffmpeg and the game-music packages installed"
    return None


def wanted(items) -> bool:
    """Whether a selected test uses the ``corpus`` fixture and the cache lacks it."""
    return not cached() and any(uses(item, "corpus") for item in items)


def start() -> None:
    """Starts the build in the background (once), when it can run."""
    if _build.started or cached() or why_not():
        return
    PARTIAL.parent.mkdir(parents=True, exist_ok=True)
    # the manifest holds paths relative to the output folder, so the folder can be renamed when done
    script = 'rm -rf "$1" && bash "$3" "$1" "${@:4}" && rm -rf "$2" && mv "$1" "$2"'
    _build.start(["bash", "-c", script, "corpus", str(PARTIAL), str(OUT), str(_script()), *ARGS])


def finish(timeout_s: float = 1800) -> Path:
    """The corpus folder, once built (started here if nothing started it); skips where it cannot be built."""
    if cached():
        return OUT
    reason = why_not()
    if reason:
        pytest.skip(reason)
    start()
    if _build.wait(timeout_s) != 0 or not cached():
        pytest.fail(f"make_corpus.sh failed (see {_build.log}):\n{_build.tail(2000)}")
    return OUT


def stop(let_finish: bool = False) -> None:
    _build.stop(let_finish)

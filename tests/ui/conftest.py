"""A real headless Chromium (Debian's, driven by Playwright for Python) shared by the UI tests of a session,
and where their screenshots go."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = os.environ.get("AUDIOMUSE_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("AUDIOMUSE_TEST_ARTIFACTS", REPO / "test-artifacts")) / "ui"


def chromium_path() -> str | None:
    found = CHROMIUM if os.path.isfile(CHROMIUM) else shutil.which("chromium") or shutil.which("chromium-browser")
    return found or None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each test opens its own page (a context)."""
    path = chromium_path()
    if not path:
        pytest.skip("no Chromium (apt-get install chromium; ./test.sh does it as root): browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, headless=True,
                                      args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

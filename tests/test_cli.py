"""The command line as a user runs it: a real subprocess, real corpus, real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIOMUSE_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "audiomuse_ray", *args], capture_output=True, text=True,
                          env=full_env, cwd=REPO, timeout=300)


def test_help_lists_commands_and_env_vars():
    out = run_cli("--help").stdout
    assert "doctor" in out and "library" in out and "AUDIOMUSE_DATABASE_URL" in out


@pytest.mark.integration
def test_library_lists_the_corpus(corpus, tmp_path):
    proc = run_cli("--music-dir", str(corpus / "library"), "--data-dir", str(tmp_path), "library")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("7 albums, 72 tracks (local provider)")
    assert "Planet Blupi — Blupi Tunes  [10 tracks" in proc.stdout
    data = json.loads(run_cli("--music-dir", str(corpus / "library"), "library", "--json", "--recent", "2").stdout)
    assert len(data) == 2 and all(a["tracks"] and a["tracks"][0]["item_id"] for a in data)


@pytest.mark.integration
def test_doctor_passes_on_a_good_setup_and_explains_a_bad_one(corpus, tmp_path):
    good = run_cli("--music-dir", str(corpus / "library"), "--data-dir", str(tmp_path), "doctor")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "[ok] database" in good.stdout and "[ok] models" in good.stdout and "all good" in good.stdout
    bad = run_cli("doctor", env={"AUDIOMUSE_DATA_DIR": str(tmp_path), "AUDIOMUSE_MUSIC_DIR": str(tmp_path / "nowhere"),
                                 "AUDIOMUSE_MODELS_DIR": str(tmp_path / "nomodels")})
    assert bad.returncode == 1
    assert "[FAIL] provider (local): music folder" in bad.stdout and "does not exist" in bad.stdout
    assert "[FAIL] models" in bad.stdout and "models/build.py" in bad.stdout


def test_a_bad_setting_is_one_clear_line():
    proc = run_cli("--provider", "spotify", "library")
    assert proc.returncode == 1 and proc.stderr.strip().startswith("error: AUDIOMUSE_PROVIDER='spotify'")

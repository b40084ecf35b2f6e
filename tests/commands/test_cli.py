"""The command line as a user runs it: a real subprocess, real corpus, real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from audiomuse_ray.cli import build_parser, main, settings_from_args
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
    good = run_cli("doctor", "--music-dir", str(corpus / "library"), "--data-dir", str(tmp_path),
                   "--models-dir", str(REPO / "models"))
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


def test_the_models_folder_it_looked_in_is_named_with_how_to_fill_it(tmp_path):
    proc = run_cli("doctor", env={"AUDIOMUSE_DATA_DIR": str(tmp_path), "AUDIOMUSE_MUSIC_DIR": str(tmp_path)})
    assert f"[FAIL] models: No models in {tmp_path / 'models'}" in proc.stdout
    assert "scripts/setup.sh" in proc.stdout and "analysis.models install" in proc.stdout


# ------------------------------------------------------------------ options before or after the command
@pytest.fixture
def no_env(monkeypatch):
    for name in [n for n in os.environ if n.startswith("AUDIOMUSE_")]:
        monkeypatch.delenv(name)


def parse(*argv: str):
    args = build_parser().parse_args(list(argv))
    return args, settings_from_args(args)


def test_settings_flags_work_after_the_command(no_env, tmp_path):
    args, s = parse("analyze", "--music-dir", str(tmp_path), "--data-dir", str(tmp_path / "d"), "-v")
    assert args.command == "analyze" and args.verbose
    assert s.music_dir == str(tmp_path) and s.data_dir == str(tmp_path / "d")
    args, s = parse("serve", "--port", "8001", "--replicas", "2")
    assert s.port == 8001 and args.replicas == 2


def test_the_later_option_wins_and_an_absent_one_clobbers_nothing(no_env):
    assert parse("--port", "8001", "serve", "--port", "8002")[1].port == 8002
    assert parse("--port", "8001", "serve", "--replicas", "3")[1].port == 8001
    args, _ = parse("-v", "library")
    assert args.verbose
    assert not getattr(parse("library")[0], "verbose", False)


def test_analyze_keeps_its_own_workers_and_recent_flags(no_env):
    args, s = parse("analyze", "--workers", "2", "--recent", "5")
    assert (args.workers, args.recent) == (2, 5)
    args, s = parse("--workers", "3", "analyze", "--num-recent-albums", "4")
    assert args.workers is None and s.workers == 3 and s.num_recent_albums == 4  # run_analysis falls back on them
    args, _ = parse("library", "--recent", "2", "--json", "--music-dir", "/m")
    assert args.recent == 2 and args.json


def test_a_bad_value_after_the_command_is_one_clear_line(no_env, capsys):
    assert main(["serve", "--port", "eighty"]) == 1
    assert capsys.readouterr().err.strip() == "error: port='eighty' (AUDIOMUSE_PORT) is not a valid integer."


def test_the_ray_job_takes_the_same_flags(no_env, tmp_path):
    from jobs.analyze import main as job_main, parse_settings

    s = parse_settings(["--recent", "5", "--workers", "2", "--data-dir", str(tmp_path), "--http-retries", "4"])
    assert (s.num_recent_albums, s.workers, s.http_retries, s.data_dir) == (5, 2, 4, str(tmp_path))
    assert job_main(["--workers", "many"]) == 2


def test_a_cancel_landing_in_a_connection_close_prints_no_traceback():
    """Ctrl-C or SIGTERM can land while SQLAlchemy closes a connection; it then logs the KeyboardInterrupt
    with a traceback although the command handles it as a cancel. That record is dropped, nothing else."""
    import logging
    import sys

    from audiomuse_ray.cli import _interrupted_close

    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        interrupted = sys.exc_info()
    try:
        raise OSError("disk full")
    except OSError:
        failed = sys.exc_info()

    def record(name, exc_info):
        return logging.LogRecord(name, logging.ERROR, __file__, 1, "Exception closing connection", (), exc_info)

    assert not _interrupted_close(record("sqlalchemy.pool.impl.NullPool", interrupted))
    assert _interrupted_close(record("sqlalchemy.pool.impl.NullPool", failed))
    assert _interrupted_close(record("audiomuse_ray.analysis.run", interrupted))

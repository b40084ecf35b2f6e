"""The scheduler actor on the session's real two-node Ray cluster, with a shared fake clock: it starts an
analysis and a radio on their ticks through the API's start path, survives being killed (for good, then
created again; or restarted by Ray) without starting a tick twice, and the radio's playlist lands on the
media provider (a real music folder's .m3u8)."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import ray

from audiomuse_ray.runtime.jobs import JOB_NAMESPACE
from audiomuse_ray.schedule.clock import RemoteClock
from audiomuse_ray.store.radio_records import AnchorItem
from audiomuse_ray.schedule.scheduler import SCHEDULER_NAME, ensure_scheduler, stop_scheduler
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store
from audiomuse_ray.store import radios as radio_store
from audiomuse_ray.store import schedules as schedule_store
from audiomuse_ray.store import task_rows as task_store
from audiomuse_ray.store import tracks

pytestmark = [pytest.mark.integration, pytest.mark.slow]
UTC = timezone.utc


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2030, 1, 1, hour, minute, second, tzinfo=UTC)


def wait_for(what, timeout_s: float = 120.0, every_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"not true within {timeout_s:g} s: {what.__doc__ or what}")


@pytest.fixture
def library_copy(analysed_corpus, tmp_path) -> Settings:
    """A copy of the session's analysed database, so this test's tasks and playlists stay its own."""
    analysed_settings, _store, _summary = analysed_corpus
    data = tmp_path / "data"
    data.mkdir()
    src = sqlite3.connect(analysed_settings.database_url.split("///", 1)[1])
    dst = sqlite3.connect(data / "audiomuse.db")
    src.backup(dst)
    src.close()
    dst.close()
    return Settings.load({}, data_dir=str(data), music_dir=analysed_settings.music_dir,
                         models_dir=analysed_settings.models_dir, timezone="UTC")


def runs(store, sid):
    return schedule_store.recent_runs(store, sid, limit=100)


def test_the_scheduler_fires_on_time_survives_being_killed_and_never_double_starts(ray_cluster, library_copy):
    settings = library_copy
    store = open_store(settings.database_url)
    seeds = sorted(tracks.analysed_ids(store))[:2]
    anchor = radio_store.create_anchor(store, "Morning radio", tuple(AnchorItem("song", i) for i in seeds))
    radio = radio_store.create_radio(store, anchor.id, n_results=5, temperature=0.0)
    analyses_before = len(task_store.recent_tasks(store, 100, task_type="analysis"))
    clock = RemoteClock.start(at(2, 58))
    analysis = schedule_store.save_schedule(store, None, name="nightly analysis", task_type="analysis",
                                            cron_expr="0 3 * * *", enabled=True, options={}, now=at(2, 58))
    radios = schedule_store.save_schedule(store, None, name="radios", task_type="alchemy_radio",
                                          cron_expr="5,10 3 * * *", enabled=True, options={}, now=at(2, 58))
    try:
        first = ensure_scheduler(settings, clock=clock)
        status = wait_for(lambda: ray.get(first.status.remote())["passes"] and ray.get(first.status.remote()))
        assert runs(store, analysis) == [] and runs(store, radios) == []  # 02:58: nothing due

        clock.set(at(3, 0, 7))
        started = wait_for(lambda: [r for r in runs(store, analysis) if r.status != "CLAIMED"])
        assert [(r.tick, r.status) for r in started] == [(at(3, 0), "STARTED")]
        job = wait_for(lambda: (t := task_store.get_task(store, started[0].task_id)) and t.finished and t)
        assert (job.task_type, job.status) == ("analysis", "SUCCESS")

        # killed for good: the next ensure_scheduler (serve's start) creates another; the 03:00 tick is taken
        ray.kill(first)
        wait_for(lambda: _gone(), 30)
        second = ensure_scheduler(settings, clock=clock)
        other = wait_for(lambda: ray.get(second.status.remote())["passes"] and ray.get(second.status.remote()))
        assert other["pid"] != status["pid"]
        assert len(runs(store, analysis)) == 1

        clock.set(at(3, 5, 2))
        fired = wait_for(lambda: [r for r in runs(store, radios) if r.status != "CLAIMED"])
        assert [(r.tick, r.status) for r in fired] == [(at(3, 5), "STARTED")]
        job = wait_for(lambda: (t := task_store.get_task(store, fired[0].task_id)) and t.finished and t)
        assert (job.task_type, job.status) == ("alchemy_radio", "SUCCESS"), job.details
        assert job.details["playlists_created"] == 1 and job.details["failed"] == []
        played = radio_store.get_radio(store, radio.id)
        assert len(played.last_item_ids) == 5 and not set(seeds) & set(played.last_item_ids)
        m3u = [p for p in Path(settings.playlist_dir).glob("*.m3u8") if "#PLAYLIST:Morning radio" in p.read_text()]
        assert len(m3u) == 1 and m3u[0].read_text().count("#EXTINF") == 5

        # its process dies: Ray restarts it, and it keeps time
        ray.kill(second, no_restart=False)
        clock.set(at(3, 10, 4))
        again = wait_for(lambda: [r for r in runs(store, radios) if r.tick == at(3, 10) and r.status != "CLAIMED"])
        assert again[0].status == "STARTED" and again[0].claimed_by != fired[0].claimed_by
        wait_for(lambda: (t := task_store.get_task(store, again[0].task_id)) and t.finished)
        assert radio_store.get_radio(store, radio.id).last_item_ids == played.last_item_ids  # temperature 0
    finally:
        stop_scheduler()
    # every tick started exactly one job
    assert len(task_store.recent_tasks(store, 100, task_type="analysis")) == analyses_before + 1
    assert len(task_store.recent_tasks(store, 100, task_type="alchemy_radio")) == 2
    assert [r.tick for r in runs(store, radios)] == [at(3, 10), at(3, 5)]
    store.dispose()


def _gone() -> bool:
    try:
        ray.get_actor(SCHEDULER_NAME, namespace=JOB_NAMESPACE)
    except ValueError:
        return True
    return False

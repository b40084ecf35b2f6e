"""The Serve app keeps the scheduler actor alive, as a RayService does with no Kubernetes CronJob: its API
replicas (two here) make sure it exists at start and every few seconds, so there is exactly one, and one
killed for good is back within that interval."""

from __future__ import annotations

import time

import pytest
import ray

from audiomuse_ray.runtime.jobs import JOB_NAMESPACE
from audiomuse_ray.schedule.scheduler import SCHEDULER_NAME, stop_scheduler
from audiomuse_ray.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def schedulers() -> list[dict]:
    return [a for a in ray.util.list_named_actors(all_namespaces=True)
            if a["name"] == SCHEDULER_NAME and a["namespace"] == JOB_NAMESPACE]


def scheduler_pid() -> int | None:
    """The running scheduler's process id; None while there is none (or a killed one is still named)."""
    try:
        return ray.get(ray.get_actor(SCHEDULER_NAME, namespace=JOB_NAMESPACE).status.remote(), timeout=10)["pid"]
    except (ValueError, ray.exceptions.RayError):
        return None


def wait_for(what, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not true within {timeout_s:g} s")


def test_two_replicas_keep_one_scheduler(serve_base, tmp_path):
    from ray import serve

    from audiomuse_ray.serve.app import build

    assert schedulers() == []
    settings = Settings.load({}, data_dir=str(tmp_path / "data"), music_dir=str(tmp_path), timezone="UTC")
    serve.run(build(settings, num_replicas=2, num_cpus=0, scheduler=True, scheduler_check_s=1.0),
              name="keeper", route_prefix="/keeper")
    try:
        first = wait_for(lambda: schedulers())
        time.sleep(3)  # both replicas have checked a few times by now
        assert len(schedulers()) == 1
        pid = wait_for(scheduler_pid)
        ray.kill(ray.get_actor(SCHEDULER_NAME, namespace=JOB_NAMESPACE), no_restart=True)  # Ray will not restart it
        again = wait_for(lambda: (p := scheduler_pid()) and p != pid and p, 30)  # the replicas make another
        assert again != pid and len(schedulers()) == len(first) == 1
    finally:
        serve.delete("keeper")
        stop_scheduler()
    assert schedulers() == []

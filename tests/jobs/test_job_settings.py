"""A secret reaches only the process that uses it: what a job's actor receives (pickled, as Ray ships it)
holds the database URL and its own provider's secret, the clustering job also the model key, and never
the API token, the hub tokens or another provider's secret."""

from __future__ import annotations

import cloudpickle
import pytest

from audiomuse_ray.providers.registry import provider_config
from audiomuse_ray.analysis.run import ANALYSIS_JOB
from audiomuse_ray.clustering.run import CLUSTERING_JOB
from audiomuse_ray.collection.sync import SYNC_JOB
from audiomuse_ray.runtime.jobs import job_settings
from audiomuse_ray.settings import Settings

SECRETS = {name: f"SECRET-{name}-value" for name in Settings.secret_names() if name != "database_url"}
SECRETS["hub_tokens"] = "friend:SECRET-hub_tokens-value"


def shipped(obj) -> bytes:
    return cloudpickle.dumps(obj)


@pytest.mark.parametrize("provider,extra", [
    ("jellyfin", {"jellyfin_url": "http://jf", "jellyfin_user_id": "u"}),
    ("subsonic", {"subsonic_url": "http://nd", "subsonic_user": "me"}),
    ("plex", {"plex_url": "http://plex"}),
])
@pytest.mark.parametrize("kind", [ANALYSIS_JOB, CLUSTERING_JOB, SYNC_JOB], ids=lambda k: k.name)
def test_a_job_receives_only_the_secrets_it_uses(tmp_path, provider, kind, extra):
    settings = Settings.load({}, data_dir=str(tmp_path), provider=provider,
                             database_url="postgresql://u:SECRET-db@db/a", **extra, **SECRETS)
    data = shipped(job_settings(settings, kind))
    own = {"jellyfin": "jellyfin_token", "subsonic": "subsonic_password", "plex": "plex_token"}[provider]
    kept = {own} | ({"ai_api_key"} if kind is CLUSTERING_JOB else set())
    for name, value in SECRETS.items():
        assert (value.encode() in data) is (name in kept), name
    assert b"SECRET-db" in data  # every job writes its results to the database


def test_a_provider_config_holds_its_own_secret_only(tmp_path):
    settings = Settings.load({}, data_dir=str(tmp_path), provider="emby", emby_url="http://emby", emby_user_id="u",
                             **SECRETS)
    data = shipped(provider_config(settings))
    assert SECRETS["emby_token"].encode() in data
    assert all(v.encode() not in data for k, v in SECRETS.items() if k != "emby_token")


def test_an_analysis_worker_receives_its_models_and_provider_only(tmp_path):
    from audiomuse_ray.analysis.run import WorkerConfig

    settings = Settings.load({}, data_dir=str(tmp_path), provider="jellyfin", jellyfin_url="http://jf",
                             jellyfin_user_id="u", database_url="postgresql://u:SECRET-db@db/a", **SECRETS)
    data = shipped(WorkerConfig.of(settings))
    assert SECRETS["jellyfin_token"].encode() in data and b"SECRET-db" not in data
    assert all(v.encode() not in data for k, v in SECRETS.items() if k != "jellyfin_token")


def test_the_scheduler_receives_the_secrets_of_the_jobs_it_starts_only(tmp_path):
    from audiomuse_ray.schedule.scheduler import scheduler_settings

    settings = Settings.load({}, data_dir=str(tmp_path), provider="plex", plex_url="http://plex", **SECRETS)
    data = shipped(scheduler_settings(settings))
    for name, value in SECRETS.items():
        assert (value.encode() in data) is (name in ("plex_token", "ai_api_key")), name

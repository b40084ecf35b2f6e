"""``serve run serve_app:app key=value …`` and KubeRay's serveConfigV2 hand the application builder strings:
they must reach the deployment as typed settings, or be refused with a sentence. Serve is not started."""

from __future__ import annotations

import os

import pytest

from audiomuse_ray.errors import ConfigurationError
from audiomuse_ray.settings import Settings


@pytest.fixture
def app(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("AUDIOMUSE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AUDIOMUSE_DATA_DIR", str(tmp_path))
    from audiomuse_ray.serve.app import app

    return app


def test_string_args_reach_the_deployment_typed(app, tmp_path):
    bound = app({"http_retries": "5", "port": "8001", "http_timeout_s": "2.5", "workers": "3",
                 "music_dir": str(tmp_path / "music"), "reload_interval_s": "4", "num_replicas": "2"})
    deployment = bound._bound_deployment
    settings, reload_interval_s, keep_scheduler_s = deployment.init_args
    assert isinstance(settings, Settings) and keep_scheduler_s == 60.0  # the replicas keep the scheduler
    assert (settings.http_retries, settings.port, settings.http_timeout_s, settings.workers) == (5, 8001, 2.5, 3)
    assert type(settings.http_retries) is int and type(settings.http_timeout_s) is float
    assert settings.music_dir == str(tmp_path / "music") and settings.models_dir == str(tmp_path / "models")
    assert reload_interval_s == 4.0 and type(reload_interval_s) is float
    assert deployment.num_replicas == 2


def test_no_args_means_the_environment_and_defaults(app, tmp_path):
    settings, reload_interval_s, _scheduler = app({})._bound_deployment.init_args
    assert settings.data_dir == str(tmp_path) and settings.http_retries == 3 and reload_interval_s == 10.0
    assert app({"scheduler": "false"})._bound_deployment.init_args[2] == 0.0  # another deployment keeps it


@pytest.mark.parametrize("args,message", [
    ({"http_retries": "abc"}, "http_retries='abc' (AUDIOMUSE_HTTP_RETRIES) is not a valid integer."),
    ({"http_retries": [5]}, "http_retries=[5] (AUDIOMUSE_HTTP_RETRIES) must be an integer, not list."),
    ({"num_replicas": "two"}, "num_replicas='two' (Serve application argument) is not a valid integer."),
    ({"num_replicas": "0"}, "num_replicas=0 (Serve application argument) must be 1 or more."),
    ({"reload_interval_s": "-1"}, "reload_interval_s=-1.0 (Serve application argument) must be more than 0 seconds."),
])
def test_bad_values_are_refused_with_the_name(app, args, message):
    with pytest.raises(ConfigurationError) as err:
        app(args)
    assert str(err.value) == message


def test_unknown_args_list_every_valid_name_including_the_apps_own(app):
    with pytest.raises(ConfigurationError) as err:
        app({"replicas": "2", "http_retries": "5"})
    text = str(err.value)
    assert text.startswith("Unknown Serve application argument 'replicas'. Valid names: reload_interval_s, num_replicas, ")
    assert all(name in text for name in Settings.names())

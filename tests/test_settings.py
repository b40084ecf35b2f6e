"""Settings: defaults, environment, flags, validation and what is safe to show."""

from __future__ import annotations

import pytest

from audiomuse_ray.errors import ConfigurationError
from audiomuse_ray.settings import Settings, redact_url


def test_defaults_are_the_embedded_setup(tmp_path):
    s = Settings.load({"XDG_DATA_HOME": str(tmp_path)} | {}, data_dir=str(tmp_path / "d"))
    assert s.provider == "local"
    assert s.database_url == f"sqlite:///{tmp_path / 'd' / 'audiomuse.db'}"
    assert s.playlist_dir == str(tmp_path / "d" / "playlists")
    assert s.ray_address == "" and s.host == "127.0.0.1" and s.port == 8000


def test_flags_win_over_environment_which_wins_over_defaults():
    env = {"AUDIOMUSE_PROVIDER": "subsonic", "AUDIOMUSE_PORT": "9000", "AUDIOMUSE_DATA_DIR": "/tmp/x"}
    s = Settings.load(env, port=9100, music_dir=None)
    assert s.provider == "subsonic" and s.port == 9100 and s.data_dir == "/tmp/x"


def test_two_settings_objects_can_differ_in_one_process():
    a = Settings.load({}, data_dir="/tmp/a")
    b = Settings.load({}, data_dir="/tmp/b")
    assert a.database_url != b.database_url


@pytest.mark.parametrize("env,match", [
    ({"AUDIOMUSE_PROVIDER": "spotify"}, "not one of"),
    ({"AUDIOMUSE_PORT": "eighty"}, "not a valid int"),
    ({"AUDIOMUSE_SUBSONIC_AUTH": "magic"}, "not one of"),
    ({"AUDIOMUSE_SERVE_INGRESS": "nginx"}, "not one of haproxy, proxy"),
])
def test_bad_values_are_clear_errors(env, match):
    with pytest.raises(ConfigurationError, match=match):
        Settings.load(env)


def test_public_dict_hides_secrets():
    s = Settings.load({"AUDIOMUSE_API_TOKEN": "tok3n", "AUDIOMUSE_SUBSONIC_PASSWORD": "pw",
                       "AUDIOMUSE_DATABASE_URL": "postgresql://me:hunter2@db/music"})
    shown = repr(s.public_dict())
    assert "tok3n" not in shown and "hunter2" not in shown and "'pw'" not in shown
    assert s.public_dict()["api_token_set"] is True
    assert s.public_dict()["database_url"] == "postgresql://me:***@db/music"


def test_redact_url_leaves_urls_without_password():
    assert redact_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert redact_url("postgresql://me@db/x") == "postgresql://me@db/x"

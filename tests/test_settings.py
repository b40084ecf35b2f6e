"""Settings: defaults, environment, flags, validation and what is safe to show."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiomuse_ray.errors import ConfigurationError
from audiomuse_ray.settings import Settings, parse_value, redact_url
from tests.conftest import REPO


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


# ------------------------------------------------------------------------- one parser for every source
def test_strings_from_any_source_become_the_fields_type(tmp_path):
    # what `serve run serve_app:app http_retries=5`, KubeRay's serveConfigV2 and CLI flags hand over
    s = Settings.load({}, data_dir=str(tmp_path), http_retries="5", http_timeout_s="2.5", port=" 8001 ",
                      workers="2", music_dir=tmp_path / "music")
    assert (s.http_retries, s.http_timeout_s, s.port, s.workers) == (5, 2.5, 8001, 2)
    assert type(s.http_retries) is int and type(s.http_timeout_s) is float and type(s.port) is int
    assert s.music_dir == str(tmp_path / "music")
    assert Settings.load({}, http_timeout_s=7).http_timeout_s == 7.0  # a YAML 7 for a float setting


def test_environment_and_overrides_fail_alike():
    msg = "http_retries='abc' (AUDIOMUSE_HTTP_RETRIES) is not a valid integer."
    with pytest.raises(ConfigurationError) as from_env:
        Settings.load({"AUDIOMUSE_HTTP_RETRIES": "abc"})
    with pytest.raises(ConfigurationError) as from_arg:
        Settings.load({}, http_retries="abc")
    assert str(from_env.value) == str(from_arg.value) == msg


@pytest.mark.parametrize("name,value,match", [
    ("http_retries", True, r"http_retries=True \(AUDIOMUSE_HTTP_RETRIES\) must be an integer, not bool"),
    ("port", 80.5, r"port=80.5 \(AUDIOMUSE_PORT\) must be an integer, not float"),
    ("port", [8000], "must be an integer, not list"),
    ("music_dir", 5, r"music_dir=5 \(AUDIOMUSE_MUSIC_DIR\) must be text, not int; quote it"),
    ("http_timeout_s", "soon", r"http_timeout_s='soon' \(AUDIOMUSE_HTTP_TIMEOUT\) is not a valid number"),
])
def test_wrongly_typed_values_are_refused_with_the_setting_and_its_variable(name, value, match):
    with pytest.raises(ConfigurationError, match=match):
        Settings.load({}, **{name: value})


def test_a_bad_secret_is_not_repeated_in_the_error():
    with pytest.raises(ConfigurationError) as err:
        Settings.load({}, subsonic_password=123456)
    assert "123456" not in str(err.value) and "AUDIOMUSE_SUBSONIC_PASSWORD" in str(err.value)


def test_unknown_names_are_listed_with_the_valid_ones():
    with pytest.raises(ConfigurationError) as err:
        Settings.load({}, http_retry="5")
    assert "Unknown setting 'http_retry'" in str(err.value) and "http_retries" in str(err.value)


@pytest.mark.parametrize("given,match", [
    ({"http_retries": "-1"}, r"http_retries=-1 \(AUDIOMUSE_HTTP_RETRIES\) must be 0 or more"),
    ({"workers": -2}, r"workers=-2 \(AUDIOMUSE_WORKERS\) must be 0 or more"),
    ({"port": "70000"}, "is not a TCP port"),
    ({"http_timeout_s": "0"}, "must be more than 0 seconds"),
])
def test_out_of_range_numbers_are_refused(given, match):
    with pytest.raises(ConfigurationError, match=match):
        Settings.load({}, **given)


@pytest.mark.parametrize("text,expected", [("true", True), ("Yes", True), ("1", True), ("off", False), ("0", False)])
def test_booleans_parse_from_the_usual_words(text, expected):
    assert parse_value("flag", text, bool) is expected
    with pytest.raises(ConfigurationError, match="flag='maybe' is not a valid boolean; use true or false"):
        parse_value("flag", "maybe", bool)


# ------------------------------------------------------------------------- models
def test_models_live_in_the_data_folder_not_in_the_source_checkout(tmp_path):
    s = Settings.load({"AUDIOMUSE_DATA_DIR": str(tmp_path / "d")})
    assert s.models_dir == str(tmp_path / "d" / "models")
    assert not s.models_dir.startswith(str(REPO))
    assert Settings.load({}, data_dir=str(tmp_path), models_dir="~/m").models_dir == str(Path.home() / "m")

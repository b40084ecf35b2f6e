"""The provider registry: providers found by scanning the package, one defined right here registering
itself, each provider's own settings (and no other's secrets) travelling on their own, and what a
provider supports read from its registration instead of its name."""

from __future__ import annotations

import dataclasses
import json
import pickle
from contextlib import contextmanager
from pathlib import Path

import pytest

from audiomuse_ray.errors import ConfigurationError, HistoryUnsupported
from audiomuse_ray.providers import (
    Capabilities, HistoryUser, check_provider_settings, describe_provider, make_provider, provider_config, registry,
)
from audiomuse_ray.providers.base import Excerpt, Health, MediaProvider
from audiomuse_ray.settings import PROVIDERS, Settings

# every secret and every provider's address set, each to a value of its own
EVERYTHING = dict(
    music_dir="/music", playlist_dir="/pl",
    subsonic_url="http://navidrome:4533", subsonic_user="nav-user", subsonic_password="SUBSONIC-SECRET",
    jellyfin_url="http://jf:8096", jellyfin_user_id="jf-user", jellyfin_token="JELLYFIN-SECRET",
    lyrion_url="http://lms:9000",
    emby_url="http://emby:8096", emby_user_id="emby-user", emby_token="EMBY-SECRET",
    plex_url="http://plex:32400", plex_token="PLEX-SECRET",
    api_token="API-SECRET", ai_api_key="AI-SECRET", database_url="postgresql://u:DB-SECRET@db/x",
)
SECRETS = {"SUBSONIC-SECRET", "JELLYFIN-SECRET", "EMBY-SECRET", "PLEX-SECRET", "API-SECRET", "AI-SECRET", "DB-SECRET"}


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    """A provider made in this test: it reads the music folder and the Subsonic password, nothing else."""

    music_dir: str
    subsonic_password: str = dataclasses.field(default="", repr=False)


class ToyProvider:
    """Enough of a provider to be built and asked; its items are the names of the files in one folder."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    @classmethod
    def from_config(cls, config: ToyConfig) -> "ToyProvider":
        return cls(config.music_dir)

    def open_stream(self, item_id: str, start_s: float | None = None, seconds: float = 30) -> Excerpt:
        return Excerpt("audio/x-toy", (Path(self.folder) / item_id).read_bytes()[: int(seconds)])

    def top_played(self, user=None, limit: int = 20):
        return []

    def health(self) -> Health:
        return Health(True, self.name, self.folder)


@contextmanager
def toy_registered(**capabilities):
    registry.register("toy", config=ToyConfig, title="Toy box", capabilities=Capabilities(**capabilities),
                      history_user=HistoryUser("Toy user", "Toy password", secret="password",
                                               default_from="subsonic_user"))(ToyProvider)
    try:
        yield
    finally:
        registry.unregister("toy")


def test_the_package_scan_finds_exactly_the_providers_settings_accept():
    assert set(registry.names()) == set(PROVIDERS)
    for name in PROVIDERS:
        entry = registry.spec(name)
        assert entry.name == name and entry.build.__self__.name == name  # the class answers to its name


def test_a_provider_defined_in_a_test_module_registers_and_is_found(settings, tmp_path):
    (tmp_path / "song").write_bytes(b"0123456789")
    with toy_registered(history=True, streaming=True):
        toy = settings.replace(provider="toy", music_dir=str(tmp_path), subsonic_user="kid")
        provider = make_provider(toy)
        assert isinstance(provider, ToyProvider) and provider.name == "toy" and provider.health().ok
        assert provider.open_stream("song", None, 4) == Excerpt("audio/x-toy", b"0123")
        assert describe_provider(toy) == {
            "name": "toy", "title": "Toy box",
            "capabilities": {"history": True, "artist_ids": False, "streaming": True, "playlists": True,
                             "playlist_in_place": False},
            "history_user": {"user_label": "Toy user", "secret_label": "Toy password", "secret": "password",
                             "default_user": "kid"},
        }
        with pytest.raises(ConfigurationError, match=r"AUDIOMUSE_PROVIDER=toy needs AUDIOMUSE_MUSIC_DIR"):
            make_provider(toy.replace(music_dir=" "))  # a field without a default is required
        # a registered provider keeping history is named where others say they keep none
        with pytest.raises(HistoryUnsupported, match=r"Providers that keep one: .*Toy box"):
            make_provider(settings.replace(provider="local", music_dir=str(tmp_path))).top_played()
    with pytest.raises(ConfigurationError, match="AUDIOMUSE_PROVIDER='toy' is not one of emby, jellyfin, local"):
        make_provider(toy)


def test_a_config_must_be_frozen_and_made_of_settings_fields():
    @dataclasses.dataclass
    class Loose:
        music_dir: str

    @dataclasses.dataclass(frozen=True)
    class Stranger:
        spotify_token: str

    with pytest.raises(TypeError, match="frozen"):
        registry.register("loose", config=Loose)
    with pytest.raises(TypeError, match="spotify_token, which are not Settings fields"):
        registry.register("stranger", config=Stranger)
    with pytest.raises(TypeError, match="plex_token is not a Settings field that may be shown"):
        registry.register("leaky", config=ToyConfig, history_user=HistoryUser("u", default_from="plex_token"))
    assert not {"loose", "stranger", "leaky"} & set(registry.names())


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_provider_config_holds_its_own_settings_only_and_pickles(name):
    settings = Settings.load({}, provider=name, **EVERYTHING)
    config = provider_config(settings)
    fields = {f.name for f in dataclasses.fields(config)}
    own = {"local": {"music_dir", "playlist_dir"}}.get(name, {n for n in Settings.names() if n.startswith(name + "_")})
    assert own <= fields <= own | {"http_timeout_s", "http_retries"}
    shipped = pickle.dumps(config)
    assert pickle.loads(shipped) == config
    kept = {s for s in SECRETS if s.encode() in shipped}
    assert kept == ({f"{name.upper()}-SECRET"} & SECRETS)  # its own secret only; none for local and Lyrion
    assert not any(s in repr(config) for s in SECRETS)  # a config in a log line shows no secret
    built = make_provider(config)
    assert isinstance(built, MediaProvider) and type(built) is type(make_provider(settings))
    assert built.name == name


def test_settings_are_checked_by_the_registry_with_the_variables_named(settings):
    check_provider_settings(settings.replace(provider="lyrion", lyrion_url="http://lms:9000"))
    with pytest.raises(ConfigurationError) as caught:
        provider_config(settings.replace(provider="subsonic", subsonic_url=""))
    assert str(caught.value) == ("AUDIOMUSE_PROVIDER=subsonic needs AUDIOMUSE_SUBSONIC_URL and "
                                 "AUDIOMUSE_SUBSONIC_USER: set them in the service's environment and restart it.")
    assert caught.value.http_status == 503
    with pytest.raises(ConfigurationError, match="not one of"):
        provider_config(settings.replace(provider="spotify"))


@pytest.mark.parametrize("name", PROVIDERS)
def test_describe_provider_is_json_with_no_secret(name):
    settings = Settings.load({}, provider=name, **EVERYTHING)
    text = json.dumps(describe_provider(settings))
    described = json.loads(text)
    assert not any(s in text for s in SECRETS)
    assert described["name"] == name and described["capabilities"]["streaming"] is True
    history = described["capabilities"]["history"]
    assert (described["history_user"] is not None) == history
    if history:  # Lyrion counts plays for the whole server: no user, no secret
        assert described["history_user"]["secret"] in (("token", "password") if name != "lyrion" else ("",))


def test_history_is_refused_where_the_registry_says_there_is_none(settings, tmp_path):
    """A capability, not a name: the providers without history say so in a sentence naming the others."""
    without = {s.name for s in registry.with_capability("history")} ^ set(PROVIDERS)
    assert without == {"local"}
    local = make_provider(settings.replace(provider="local", music_dir=str(tmp_path)))
    with pytest.raises(HistoryUnsupported) as caught:
        local.top_played()
    assert str(caught.value) == ("A local music folder keeps no listening history, so there is nothing to build a "
                                 "sonic fingerprint from. Providers that keep one: Emby, Jellyfin, Lyrion, Plex and "
                                 "Subsonic/Navidrome.")
    assert caught.value.http_status == 400

"""``open_stream`` (song previews) on all six providers: the local folder on the corpus, the five media
servers through their loopback fakes serving the same corpus (real audio; the transcoding servers' streams
are real MP3 made by ffmpeg). Each provider is built the way the service builds it, by ``make_provider``
from settings, and each excerpt is checked as audio: it decodes, to about the seconds asked for."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import av
import pytest

from audiomuse_ray.api.preview import preview
from audiomuse_ray.errors import ProviderAuthError, ProviderRequestError, UnknownTrack, UnreadableAudio
from audiomuse_ray.providers import make_provider
from audiomuse_ray.providers.http import stream_cap
from audiomuse_ray.providers.local import LocalFolderProvider
from tests.fakes.music_servers import FakeEmby, FakeJellyfin, FakeLibrary, FakeLyrion, FakePlex, FakeSubsonic

pytestmark = pytest.mark.integration
SECONDS, START = 5, 4.0


@pytest.fixture(scope="module")
def library(corpus, tmp_path_factory) -> FakeLibrary:
    return FakeLibrary.from_provider(LocalFolderProvider(corpus / "library", tmp_path_factory.mktemp("pl")))


@pytest.fixture(scope="module")
def servers(library):
    with contextlib.ExitStack() as stack:
        yield {
            "jellyfin": stack.enter_context(FakeJellyfin(library, user_id="u1", token="key")),
            "emby": stack.enter_context(FakeEmby(library, user_id="u1", token="key")),
            "subsonic": stack.enter_context(FakeSubsonic(library, user="admin", password="secret")),
            "lyrion": stack.enter_context(FakeLyrion(library)),
            "plex": stack.enter_context(FakePlex(library, token="plex-token")),
        }


def configured(name: str, settings, servers, corpus, tmp_path):
    """The provider ``name`` as the service makes it: from its settings, through the registry."""
    url = servers[name].url if name in servers else ""
    given = {
        "local": dict(music_dir=str(corpus / "library"), playlist_dir=str(tmp_path / "pl")),
        "jellyfin": dict(jellyfin_url=url, jellyfin_user_id="u1", jellyfin_token="key"),
        "emby": dict(emby_url=url, emby_user_id="u1", emby_token="key"),
        "subsonic": dict(subsonic_url=url, subsonic_user="admin", subsonic_password="secret"),
        "lyrion": dict(lyrion_url=url),
        "plex": dict(plex_url=url, plex_token="plex-token"),
    }[name]
    return make_provider(settings.replace(provider=name, http_retries=0, **given))


def decoded_seconds(data: bytes) -> float:
    """Seconds of audio in ``data``, decoded frame by frame (a byte cut has no trustworthy header length)."""
    total = 0.0
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                total += frame.samples / frame.sample_rate
        except av.error.FFmpegError:
            pass  # the cut's last, partial frame
    return total


def track_of(library: FakeLibrary, suffix: str):
    return next(t for ts in library.tracks.values() for t in ts if t.path_or_url.endswith(suffix))


@pytest.mark.parametrize("name", ["jellyfin", "emby", "subsonic"])
def test_transcoding_servers_stream_mp3_from_the_start_asked(name, settings, servers, library, corpus, tmp_path):
    track = track_of(library, ".flac")
    servers[name].requests.clear()
    clip = configured(name, settings, servers, corpus, tmp_path).open_stream(track.item_id, START, SECONDS)
    assert clip.media_type == "audio/mpeg" and len(clip.data) <= stream_cap(SECONDS)
    assert SECONDS <= decoded_seconds(clip.data) <= SECONDS * 1.5 + 0.5  # 128 kbit/s with the 50 % slack
    asked = [r for r in servers[name].requests if "stream" in r.path or "universal" in r.path]
    assert len(asked) == 1
    if name == "subsonic":
        assert (asked[0].arg("timeOffset"), asked[0].arg("format"), asked[0].arg("id")) == ("4", "mp3", track.item_id)
    else:
        assert asked[0].arg("StartTimeTicks") == "40000000" and asked[0].arg("UserId") == "u1"
        assert asked[0].path == ("/emby" if name == "emby" else "") + f"/Audio/{track.item_id}/universal"


@pytest.mark.parametrize("name", ["lyrion", "plex"])
def test_servers_without_a_stream_give_the_start_of_the_file(name, settings, servers, library, corpus, tmp_path):
    """A byte cut of the original, sized by the file's own bit rate (a lossless file is not cut to under a
    second): the file's own type, and it decodes to about the seconds asked for."""
    p = configured(name, settings, servers, corpus, tmp_path)
    for suffix, media_type in ((".mp3", "audio/mpeg"), (".ogg", "audio/ogg"), (".flac", "audio/flac"),
                               (".m4a", "audio/mp4")):
        track = track_of(library, suffix)
        clip = p.open_stream(track.item_id, None, SECONDS)
        original = Path(track.path_or_url).read_bytes()
        kbps = len(original) * 8 / 1000 / track.duration
        assert clip.media_type == media_type and original.startswith(clip.data), suffix
        assert len(clip.data) == pytest.approx(stream_cap(SECONDS, kbps), rel=1e-3)  # Plex states milliseconds
        if suffix != ".m4a":  # an MP4 whose index sits at the end does not play from its start alone
            assert SECONDS * 0.8 <= decoded_seconds(clip.data) <= SECONDS * 2, suffix  # VBR: about, with slack


def test_the_local_folder_decodes_an_ogg_excerpt(settings, servers, library, corpus, tmp_path):
    p = configured("local", settings, servers, corpus, tmp_path)
    track = track_of(library, ".m4a")
    clip = p.open_stream(track.item_id, START, SECONDS)
    assert clip.media_type == "audio/ogg" and clip.data[:4] == b"OggS"
    assert decoded_seconds(clip.data) == pytest.approx(SECONDS, abs=0.05)
    with pytest.raises(UnknownTrack, match="not in the music folder"):
        p.open_stream("no-such-id", None, SECONDS)
    with pytest.raises(UnreadableAudio, match="no audio to preview"):
        p.open_stream(track.item_id, 3600, SECONDS)  # past the end of a 30 s clip


@pytest.mark.parametrize("name", ["local", "jellyfin", "emby", "subsonic", "lyrion", "plex"])
def test_the_preview_route_is_one_call_of_open_stream_on_every_provider(name, settings, servers, library, corpus,
                                                                        tmp_path):
    track = track_of(library, ".opus")
    clip = preview(configured(name, settings, servers, corpus, tmp_path), track.item_id, {"seconds": "3"})
    assert clip.media_type.startswith("audio/") and 0 < len(clip.body) <= stream_cap(3)
    assert decoded_seconds(clip.body) >= (3 if name in ("local", "jellyfin", "emby", "subsonic") else 0.5) - 0.05


def test_stream_errors_are_typed_not_played(settings, servers, corpus, tmp_path):
    """An unknown id or a wrong key is a provider error, never a JSON error page handed out as audio."""
    for name in ("jellyfin", "emby", "lyrion", "plex"):
        with pytest.raises(ProviderRequestError):
            configured(name, settings, servers, corpus, tmp_path).open_stream("no-such-id", None, SECONDS)
    with pytest.raises(ProviderRequestError, match="Song not found"):  # Subsonic answers errors in JSON, HTTP 200
        configured("subsonic", settings, servers, corpus, tmp_path).open_stream("no-such-id", None, SECONDS)
    wrong = settings.replace(provider="plex", plex_url=servers["plex"].url, plex_token="nope", http_retries=0)
    with pytest.raises(ProviderAuthError):
        make_provider(wrong).open_stream("any", None, SECONDS)

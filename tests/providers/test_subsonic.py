"""The Subsonic provider against a real Subsonic-API server (supysonic) and a token-auth loopback server."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from audiomuse_ray.errors import ProviderAuthError, ProviderRequestError, ProviderUnavailable
from audiomuse_ray.providers.subsonic import SubsonicProvider
from tests.conftest import free_port
from tests.fakes.loopback import LoopbackServer, Response

pytestmark = pytest.mark.integration



@pytest.fixture(scope="module")
def supysonic(corpus, tmp_path_factory):
    bin_dir = os.environ.get("AUDIOMUSE_TEST_SUPYSONIC_BIN")
    if not bin_dir or not (Path(bin_dir) / "supysonic-server").exists():
        pytest.skip("supysonic is not installed (./test.sh installs it into .cache/supysonic-venv)")
    work = tmp_path_factory.mktemp("supysonic")
    conf = work / "supysonic.conf"
    conf.write_text(
        f"[base]\ndatabase_uri = sqlite:///{work / 'supysonic.db'}\nscanner_extensions = ogg opus mp3 flac m4a wav\n"
        f"[webapp]\ncache_dir = {work / 'cache'}\nlog_level = WARNING\n[daemon]\nsocket = {work / 'daemon.sock'}\n"
    )
    env = dict(os.environ)  # supysonic reads ./supysonic.conf from its working directory
    cli = str(Path(bin_dir) / "supysonic-cli")
    for args in (["user", "add", "admin", "-p", "secret"], ["folder", "add", "music", str(corpus / "library")],
                 ["folder", "scan", "music"]):
        subprocess.run([cli, *args], env=env, cwd=work, check=True, capture_output=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen([str(Path(bin_dir) / "supysonic-server"), "-S", "waitress", "-h", "127.0.0.1", "-p", str(port)],
                            env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/rest/ping", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_password_auth_is_negotiated_and_the_library_is_read(supysonic):
    p = SubsonicProvider(supysonic, "admin", "secret", retries=0)
    assert p.health().ok
    assert p.auth == "password"  # supysonic answers error 10 to token auth; the provider fell back
    albums = p.list_albums()
    tracks = [t for a in albums for t in p.list_tracks(a)]
    assert len(tracks) == 72 and len({t.item_id for t in tracks}) == 72
    assert albums[0].added_at >= albums[-1].added_at
    assert len(p.list_albums(3)) == 3


def test_download_returns_the_real_file_and_cleans_up(supysonic, corpus):
    p = SubsonicProvider(supysonic, "admin", "secret", retries=0)
    album = next(a for a in p.list_albums() if a.name == "Blupi Tunes")
    track = p.list_tracks(album)[0]
    with p.local_file(track) as path:
        data = path.read_bytes()
    originals = {f.read_bytes() for f in (corpus / "library" / "Planet Blupi" / "Blupi Tunes").iterdir()}
    assert data in originals
    assert not path.exists()


def test_playlists_are_created_replaced_and_deleted(supysonic):
    p = SubsonicProvider(supysonic, "admin", "secret", retries=0)
    ids = [t.item_id for t in p.list_tracks(p.list_albums()[0])]
    p.create_playlist("Night_automatic", ids[:3])
    p.create_playlist("Night_automatic", ids[:2])
    p.create_playlist("Keep_instant", ids[:1])
    assert [(x.name, x.track_count) for x in p.list_playlists("_automatic")] == [("Night_automatic", 2)]
    assert p.delete_playlists("_automatic") == 1
    assert [x.name for x in p.list_playlists()] == ["Keep_instant"]
    p.delete_playlists("_instant")


def test_wrong_password_is_an_auth_error(supysonic):
    p = SubsonicProvider(supysonic, "admin", "wrong", auth="password", retries=0)
    with pytest.raises(ProviderAuthError, match="refused user 'admin'"):
        p.list_albums()


def test_token_auth_is_used_when_the_server_accepts_it():
    """Navidrome prefers salted-token auth: the provider must send t/s and never the password."""
    seen = []

    def ping(req):
        seen.append(req.query)
        t, s = req.arg("t"), req.arg("s")
        ok = t == hashlib.md5(("pw" + (s or "")).encode()).hexdigest()
        body = {"status": "ok", "version": "1.16.1"} if ok else {"status": "failed", "error": {"code": 40, "message": "Wrong username or password"}}
        return Response(200, {"subsonic-response": body})

    with LoopbackServer() as server:
        server.route("GET", "/rest/ping", ping)
        p = SubsonicProvider(server.url, "me", "pw", retries=0)
        assert p.health().ok and p.auth == "token"
        assert "p" not in seen[0] and len(seen[0]["s"][0]) >= 6
        bad = SubsonicProvider(server.url, "me", "nope", auth="token", retries=0)
        with pytest.raises(ProviderAuthError):
            bad.call("ping")


def test_a_down_subsonic_server_is_unavailable():
    p = SubsonicProvider(f"http://127.0.0.1:{free_port()}", "a", "b", retries=0)
    with pytest.raises(ProviderUnavailable, match="AUDIOMUSE_SUBSONIC_URL"):
        p.list_albums()
    assert not p.health().ok



def test_a_preview_streams_from_supysonic(supysonic, corpus):
    """The real server refuses ``timeOffset`` for audio and has no transcoder configured: the provider falls
    back to the file ``raw``, cut by the file's own bit rate, which still plays about the seconds asked."""
    import av

    from audiomuse_ray.providers.http import stream_cap

    p = SubsonicProvider(supysonic, "admin", "secret", retries=0)
    tracks = [t for a in p.list_albums() for t in p.list_tracks(a)]
    for suffix in (".mp3", ".flac", ".ogg"):
        track = next(t for t in tracks if t.path_or_url.endswith(suffix))
        clip = p.open_stream(track.item_id, 3, 5)
        original = (corpus / "library" / track.path_or_url).read_bytes()  # supysonic's paths: within the folder
        assert clip.media_type.startswith("audio/") and original.startswith(clip.data), suffix
        assert stream_cap(5) < len(clip.data) or suffix != ".flac"  # sized by the lossless file's rate, not 128k
        with av.open(io.BytesIO(clip.data)) as container:
            seconds = 0.0
            try:
                for frame in container.decode(container.streams.audio[0]):
                    seconds += frame.samples / frame.sample_rate
            except av.error.FFmpegError:
                pass  # the cut's last, partial frame
        assert 4 <= seconds <= 10, suffix
    with pytest.raises(ProviderRequestError, match="not found"):
        p.open_stream("0" * 8 + "-0000-4000-8000-" + "0" * 12, None, 5)

"""Loopback fakes of Jellyfin, Lyrion and a Subsonic-API server that answer in their documented formats,
serving a real library.

Only for tests: Jellyfin, Emby, Plex and Lyrion cannot run here (supysonic can: tests/providers/test_subsonic.py uses
the real one; ``FakeSubsonic`` is for what it cannot show, e.g. many threads or a failure on demand). The
library comes from a local folder scan, so downloads return real audio bytes, and the transcoding
streams (Jellyfin's and Emby's ``Audio/{id}/universal``, Subsonic's ``stream``) real MP3 made by ffmpeg.
Playlist edits in place (``replace_playlist``) are in ``playlist_edits.py``. ``fail_creates_from = N``
makes the Nth playlist creation (counting from 1) and every later one answer HTTP 500.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from audiomuse_ray.providers.base import Album, Track
from tests.fakes.audio import audio_file, mp3_stream
from tests.fakes.loopback import LoopbackServer, Request, Response
from tests.fakes.playlist_edits import (install_jellyfin_edits, install_lyrion_edits, install_plex_edits,
                                        install_subsonic_edits)


@dataclass
class FakeLibrary:
    albums: list[Album]
    tracks: dict[str, list[Track]]
    plays: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    @classmethod
    def from_provider(cls, provider) -> "FakeLibrary":
        albums = provider.list_albums()
        return cls(albums, {a.id: provider.list_tracks(a) for a in albums})

    def track(self, item_id: str) -> Track | None:
        return next((t for ts in self.tracks.values() for t in ts if t.item_id == item_id), None)


class FakeJellyfin(LoopbackServer):
    """``users`` maps user names to ids (``/Users``); every user sees the same library and plays."""

    def __init__(self, library: FakeLibrary, user_id: str = "u1", token: str = "key",
                 users: dict[str, str] | None = None) -> None:
        super().__init__()
        self.library, self.user_id, self.token = library, user_id, token
        self.users = users or {"admin": user_id}
        self.playlists: dict[str, tuple[str, list[str]]] = {}
        self.ids = itertools.count(1)
        self.creates = 0
        self.fail_creates_from: int | None = None
        for uid in {user_id, *self.users.values()}:
            self.route("GET", f"/Users/{uid}/Items", self._guard(self.items))
        self.route("GET", "/Users", self._guard(lambda r: Response(200, [{"Name": n, "Id": i} for n, i in self.users.items()])))
        self.route("POST", "/Playlists", self._guard(self.create_playlist))
        self.route("DELETE", "/Items/", self._guard(self.delete_item), prefix=True)
        self.route("GET", "/Items/", self._guard(self.download), prefix=True)
        self.route("GET", "/Audio/", self._guard(self.universal), prefix=True)
        self.route("GET", "/System/Info", self._guard(lambda r: Response(200, {"ServerName": "fake", "Version": "10.10.0"})))
        install_jellyfin_edits(self)

    def _guard(self, fn):
        def wrapped(req: Request) -> Response:
            if req.headers.get("x-emby-token") != self.token:
                return Response(401, b"")
            return fn(req)
        return wrapped

    def items(self, req: Request) -> Response:
        kind = req.arg("IncludeItemTypes")
        start, limit = int(req.arg("StartIndex", "0")), int(req.arg("Limit", "100000"))
        if kind == "MusicAlbum":
            base = datetime(2024, 1, 1, tzinfo=timezone.utc)
            rows = [{"Id": a.id, "Name": a.name, "AlbumArtist": a.artist, "ChildCount": a.track_count,
                     "DateCreated": (base - timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"), "Type": "MusicAlbum"}
                    for i, a in enumerate(self.library.albums)]
        elif kind == "Audio" and req.arg("ParentId"):
            rows = [self._audio(t) for t in self.library.tracks.get(req.arg("ParentId"), [])]
        elif kind == "Audio" and req.arg("SortBy") == "PlayCount":
            played = sorted(self.library.plays.items(), key=lambda kv: -kv[1][0])
            rows = [self._audio(self.library.track(i), plays) for i, plays in played]
        elif kind == "Playlist":
            rows = [{"Id": pid, "Name": name, "ChildCount": len(ids), "Type": "Playlist"} for pid, (name, ids) in self.playlists.items()]
        else:
            rows = []
        return Response(200, {"Items": rows[start:start + limit], "TotalRecordCount": len(rows), "StartIndex": start})

    @staticmethod
    def _audio(t: Track, plays=None) -> dict:
        row = {"Id": t.item_id, "Name": t.title, "Album": t.album, "AlbumArtist": t.album_artist, "Artists": [t.artist],
               "RunTimeTicks": int((t.duration or 0) * 10_000_000), "IndexNumber": t.track_number, "Path": t.path_or_url,
               "Type": "Audio", "ArtistItems": [{"Name": t.artist, "Id": t.artist_id}] if t.artist_id else []}
        if plays:
            row["UserData"] = {"PlayCount": plays[0], "LastPlayedDate": plays[1].strftime("%Y-%m-%dT%H:%M:%S.1234567Z"), "Played": True}
        return row

    def create_playlist(self, req: Request) -> Response:
        body = req.json()
        self.creates += 1
        if self.fail_creates_from is not None and self.creates >= self.fail_creates_from:
            return Response(500, b"playlist store is full")
        pid = f"pl{next(self.ids)}"
        self.playlists[pid] = (body["Name"], list(body["Ids"]))
        return Response(200, {"Id": pid})

    def delete_item(self, req: Request) -> Response:
        pid = req.path.rsplit("/", 1)[-1]
        return Response(204, b"") if self.playlists.pop(pid, None) else Response(404, b"")

    def download(self, req: Request) -> Response:
        item_id = req.path.split("/Items/", 1)[1].split("/")[0]
        track = self.library.track(item_id)
        if track is None or not req.path.endswith("/Download"):
            return Response(404, b"")
        return Response(200, Path(track.path_or_url).read_bytes())

    def universal(self, req: Request) -> Response:
        """``/Audio/{id}/universal``: MP3 from ``StartTimeTicks`` at ``MaxStreamingBitrate``."""
        parts = req.path.split("/")
        track = self.library.track(parts[-2]) if parts[-1] == "universal" else None
        if track is None or req.arg("UserId") not in {self.user_id, *self.users.values()}:
            return Response(404, b"")
        start = int(req.arg("StartTimeTicks", "0")) / 10_000_000
        return mp3_stream(track.path_or_url, start, int(req.arg("MaxStreamingBitrate", "128000")) // 1000)


class FakeEmby(FakeJellyfin):
    """Emby: Jellyfin's item API under ``/emby``; playlists created from query parameters (``Ids`` comma
    separated) and deleted with ``POST /emby/Items/Delete?Ids=``."""

    def __init__(self, library: FakeLibrary, user_id: str = "u1", token: str = "key",
                 users: dict[str, str] | None = None) -> None:
        super().__init__(library, user_id, token, users)
        self.routes = {(m, "/emby" + path): fn for (m, path), fn in self.routes.items() if path != "/Playlists"}
        self.prefix_routes = [(m, "/emby" + path, fn) for m, path, fn in self.prefix_routes if m == "GET"]
        self.route("POST", "/emby/Playlists", self._guard(self.create_from_query))
        self.route("POST", "/emby/Items/Delete", self._guard(self.delete_by_query))
        install_jellyfin_edits(self, "/emby", rename=False)

    def create_from_query(self, req: Request) -> Response:
        ids = [i for i in (req.arg("Ids") or "").split(",") if i]
        if req.arg("MediaType") != "Audio" or not req.arg("UserId") or not req.arg("Name"):
            return Response(400, b"Name, Ids, UserId and MediaType are required")
        pid = f"em{next(self.ids)}"
        self.playlists[pid] = (req.arg("Name"), ids)
        return Response(200, {"Id": pid})

    def delete_by_query(self, req: Request) -> Response:
        gone = [self.playlists.pop(i, None) for i in (req.arg("Ids") or "").split(",")]
        return Response(204, b"") if all(gone) else Response(404, b"")


class FakePlex(LoopbackServer):
    """Plex Media Server: one music section over the library; JSON ``MediaContainer`` answers when asked
    with ``Accept: application/json``; ``plays`` are the token owner's (viewCount, lastViewedAt)."""

    def __init__(self, library: FakeLibrary, token: str = "plex-token", machine: str = "abc123machine") -> None:
        super().__init__()
        self.library, self.token, self.machine = library, token, machine
        self.playlists: dict[str, tuple[str, list[str]]] = {}
        self.ids = itertools.count(9000)
        self.keys = {t.item_id: str(100 + i) for i, t in enumerate(t for ts in library.tracks.values() for t in ts)}
        self.route("GET", "/identity", self._guard(lambda r: self._mc(machineIdentifier=machine, version="1.40.0")))
        self.route("GET", "/library/sections", self._guard(lambda r: self._mc(
            Directory=[{"key": "3", "type": "artist", "title": "Music"}, {"key": "1", "type": "movie", "title": "Films"}])))
        self.route("GET", "/library/sections/3/all", self._guard(self.section_all))
        self.route("GET", "/library/metadata/", self._guard(self.children), prefix=True)
        self.route("GET", "/library/parts/", self._guard(self.part), prefix=True)
        self.route("POST", "/playlists", self._guard(self.create_playlist))
        self.route("GET", "/playlists", self._guard(lambda r: self._mc(Metadata=[
            {"ratingKey": pid, "title": name, "leafCount": len(ids), "playlistType": "audio"}
            for pid, (name, ids) in self.playlists.items()])))
        self.route("DELETE", "/playlists/", self._guard(self.delete_playlist), prefix=True)
        install_plex_edits(self)

    def _guard(self, fn):
        def wrapped(req: Request) -> Response:
            if req.headers.get("x-plex-token") != self.token:
                return Response(401, b"<html>Unauthorized</html>")
            if "application/json" not in req.headers.get("accept", ""):
                return Response(200, b"<MediaContainer/>")  # Plex answers XML unless asked for JSON
            return fn(req)
        return wrapped

    @staticmethod
    def _mc(**body) -> Response:
        return Response(200, {"MediaContainer": {"size": len(body.get("Metadata", [])), **body}})

    def _track(self, t: Track, album: Album) -> dict:
        row = {"ratingKey": t.item_id, "title": t.title, "parentTitle": t.album, "grandparentTitle": album.artist,
               "grandparentRatingKey": t.artist_id, "index": t.track_number, "duration": int((t.duration or 0) * 1000),
               "Media": [{"bitrate": 128, "Part": [{
                   "key": f"/library/parts/{self.keys[t.item_id]}/1700000000/file{Path(t.path_or_url).suffix}",
                   "size": Path(t.path_or_url).stat().st_size, "duration": int((t.duration or 0) * 1000)}]}]}
        if t.artist != album.artist:
            row["originalTitle"] = t.artist
        plays = self.library.plays.get(t.item_id)
        if plays:
            row.update(viewCount=plays[0], lastViewedAt=int(plays[1].timestamp()))
        return row

    def section_all(self, req: Request) -> Response:
        start, size = int(req.arg("X-Plex-Container-Start", "0")), int(req.arg("X-Plex-Container-Size", "100000"))
        if req.arg("type") == "9":
            base = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
            rows = [{"ratingKey": a.id, "title": a.name, "parentTitle": a.artist, "addedAt": base - i * 86400,
                     "leafCount": len(self.library.tracks.get(a.id, []))} for i, a in enumerate(self.library.albums)]
        elif req.arg("type") == "10":
            rows = [self._track(t, a) for a in self.library.albums for t in self.library.tracks.get(a.id, [])]
            if req.arg("sort") == "viewCount:desc":
                rows.sort(key=lambda r: -r.get("viewCount", 0))
        else:
            rows = []
        page = rows[start:start + size]
        return self._mc(Metadata=page, totalSize=len(rows), offset=start)

    def children(self, req: Request) -> Response:
        """``/library/metadata/{album}/children``, or one track's ``/library/metadata/{track}``."""
        key, whole = req.path.split("/")[3], req.path.endswith("/children")
        album = next((a for a in self.library.albums if (a.id == key if whole else any(
            t.item_id == key for t in self.library.tracks.get(a.id, [])))), None)
        if album is None:
            return Response(404, b"")
        tracks = self.library.tracks.get(album.id, [])
        return self._mc(Metadata=[self._track(t, album) for t in tracks if whole or t.item_id == key])

    def part(self, req: Request) -> Response:
        key = req.path.split("/")[3]
        track = next((t for ts in self.library.tracks.values() for t in ts if self.keys[t.item_id] == key), None)
        if track is None or req.arg("download") != "1":
            return Response(404, b"")
        return audio_file(track.path_or_url)

    def create_playlist(self, req: Request) -> Response:
        uri = req.arg("uri") or ""
        prefix = f"server://{self.machine}/com.plexapp.plugins.library/library/metadata/"
        if req.arg("type") != "audio" or not uri.startswith(prefix) or not req.arg("title"):
            return Response(400, b"bad playlist request")
        ids = uri[len(prefix):].split(",")
        if any(self.library.track(i) is None for i in ids):
            return Response(404, b"")
        pid = str(next(self.ids))
        self.playlists[pid] = (req.arg("title"), ids)
        return self._mc(Metadata=[{"ratingKey": pid, "title": req.arg("title"), "leafCount": len(ids)}])

    def delete_playlist(self, req: Request) -> Response:
        return Response(204, b"") if self.playlists.pop(req.path.rsplit("/", 1)[-1], None) else Response(404, b"")


class FakeLyrion(LoopbackServer):
    def __init__(self, library: FakeLibrary) -> None:
        super().__init__()
        self.library = library
        self.playlists: dict[str, tuple[str, list[str]]] = {}
        self.ids = itertools.count(100)
        self.creates = 0
        self.fail_creates_from: int | None = None
        self.route("POST", "/jsonrpc.js", self.jsonrpc)
        self.route("GET", "/music/", self.download, prefix=True)
        install_lyrion_edits(self)

    def jsonrpc(self, req: Request) -> Response:
        body = req.json()
        _player, cmd = body["params"]
        args = {a.split(":", 1)[0]: a.split(":", 1)[1] for a in cmd[1:] if isinstance(a, str) and ":" in a}
        name = cmd[0]
        if name == "serverstatus":
            result = {"version": "9.0.0"}
        elif name == "albums":
            rows = [{"id": a.id, "album": a.name, "artist": a.artist} for a in self.library.albums]
            result = self._page(rows, cmd, "albums_loop")
        elif name == "titles":
            rows = [{"id": t.item_id, "title": t.title, "artist": t.artist, "album": t.album, "duration": t.duration,
                     "tracknum": str(t.track_number or ""), "url": "file://" + t.path_or_url,
                     **({"artist_id": t.artist_id} if "s" in args.get("tags", "") else {})}
                    for t in self.library.tracks.get(args.get("album_id", ""), [])]
            if args.get("sort", "").startswith("sql=tracks_persistent.playcount"):  # the most played, tag O
                rows = [{"id": i, "playcount": n} for i, (n, _when) in
                        sorted(self.library.plays.items(), key=lambda kv: -kv[1][0])]
            if "track_id" in args:  # one track, with its file's size and bit rate when tags f and r ask for them
                t = self.library.track(args["track_id"])
                rows = [{"id": t.item_id, "duration": t.duration, "filesize": Path(t.path_or_url).stat().st_size,
                         "bitrate": "128kbps VBR"}] if t else []
            result = self._page(rows, cmd, "titles_loop")
        elif name == "playlists" and cmd[1] == "new":
            self.creates += 1
            if self.fail_creates_from is not None and self.creates >= self.fail_creates_from:
                return Response(500, b"cannot write the playlist folder")
            existing = next((pid for pid, (n, _ids) in self.playlists.items() if n == args["name"]), None)
            if existing is not None:  # as Lyrion does: no second playlist of a name, the existing one's id
                result = {"overwritten_playlist_id": existing}
            else:
                pid = str(next(self.ids))
                self.playlists[pid] = (args["name"], [])
                result = {"playlist_id": pid}
        elif name == "playlists" and cmd[1] == "rename":
            _old, ids = self.playlists[args["playlist_id"]]
            self.playlists[args["playlist_id"]] = (args["newname"], ids)
            result = {}
        elif name == "playlists" and cmd[1] == "edit":
            self.playlists[args["playlist_id"]][1].append(args["track_id"])
            result = {}
        elif name == "playlists" and cmd[1] == "delete":
            self.playlists.pop(args["playlist_id"], None)
            result = {}
        elif name == "playlists":
            rows = [{"id": pid, "playlist": n} for pid, (n, _ids) in self.playlists.items()]
            result = self._page(rows, cmd, "playlists_loop")
        else:
            return Response(200, {"id": body.get("id"), "method": "slim.request", "params": body["params"], "result": None})
        return Response(200, {"id": body.get("id"), "method": "slim.request", "params": body["params"], "result": result})

    @staticmethod
    def _page(rows: list, cmd: list, loop: str) -> dict:
        start, size = int(cmd[1]), int(cmd[2])
        return {"count": len(rows), loop: rows[start:start + size]}

    def download(self, req: Request) -> Response:
        track = self.library.track(req.path.split("/")[2])
        return audio_file(track.path_or_url) if track else Response(404, b"")


class FakeSubsonic(LoopbackServer):
    """A Subsonic-API server (``/rest/<method>``, JSON) over a ``FakeLibrary``. Like supysonic it accepts
    only password auth (``p=enc:<hex>``) and answers token auth with error 41; ``token_requests`` counts
    the requests that tried a token. ``delay_s`` slows every answer (so concurrent callers overlap)."""

    def __init__(self, library: FakeLibrary, user: str = "admin", password: str = "secret", delay_s: float = 0.0) -> None:
        super().__init__()
        self.library, self.user, self.password, self.delay_s = library, user, password, delay_s
        self.playlists: dict[str, tuple[str, list[str]]] = {}
        self.lock = threading.Lock()  # request threads share the counters and playlists
        self.token_requests = 0
        self.creates = 0
        self.fail_creates_from: int | None = None
        self.route("GET", "/rest/", self.rest, prefix=True)
        install_subsonic_edits(self)

    def _reply(self, status: int = 200, error: tuple[int, str] | None = None, **body) -> Response:
        payload = {"status": "failed", "error": {"code": error[0], "message": error[1]}} if error else {"status": "ok", **body}
        return Response(status, {"subsonic-response": {"version": "1.16.1", **payload}}, delay_s=self.delay_s)

    def rest(self, req: Request) -> Response:
        if req.arg("t") is not None:
            with self.lock:
                self.token_requests += 1
            return self._reply(error=(41, "Token authentication not supported"))
        given = req.arg("p", "")
        password = bytes.fromhex(given[4:]).decode() if given.startswith("enc:") else given
        if req.arg("u") != self.user or password != self.password:
            return self._reply(error=(40, "Wrong username or password"))
        method = req.path[len("/rest/"):].removesuffix(".view")
        handler = getattr(self, "do_" + method, None)
        return handler(req) if handler else self._reply(error=(0, f"unknown method {method}"))

    def do_ping(self, req: Request) -> Response:
        return self._reply()

    def do_getAlbumList2(self, req: Request) -> Response:
        start, size = int(req.arg("offset", "0")), int(req.arg("size", "10"))
        rows = [{"id": a.id, "name": a.name, "artist": a.artist, "songCount": len(self.library.tracks.get(a.id, [])),
                 "created": "2024-01-01T00:00:00Z"} for a in self.library.albums]
        return self._reply(albumList2={"album": rows[start:start + size]})

    def do_getAlbum(self, req: Request) -> Response:
        album = next((a for a in self.library.albums if a.id == req.arg("id")), None)
        if album is None:
            return self._reply(error=(70, "Album not found"))
        songs = [{"id": t.item_id, "title": t.title, "artist": t.artist, "album": t.album, "duration": t.duration,
                  "track": t.track_number, "path": t.path_or_url, "artistId": t.artist_id}
                 for t in self.library.tracks.get(album.id, [])]
        return self._reply(album={"id": album.id, "name": album.name, "artist": album.artist, "song": songs})

    def do_getPlaylists(self, req: Request) -> Response:
        with self.lock:
            rows = [{"id": pid, "name": name, "songCount": len(ids)} for pid, (name, ids) in self.playlists.items()]
        return self._reply(playlists={"playlist": rows})

    def do_createPlaylist(self, req: Request) -> Response:
        songs = req.query.get("songId", [])
        with self.lock:
            self.creates += 1
            if self.fail_creates_from is not None and self.creates >= self.fail_creates_from:
                return Response(500, b"database is locked")
            if any(self.library.track(s) is None for s in songs):
                return self._reply(error=(70, "Song not found"))
            pid = req.arg("playlistId")
            if pid:  # rewrite in place, keeping the id
                if pid not in self.playlists:
                    return self._reply(error=(70, "Playlist not found"))
                self.playlists[pid] = (self.playlists[pid][0], list(songs))
                return self._reply()
            pid = uuid.uuid4().hex
            self.playlists[pid] = (req.arg("name", ""), list(songs))
        return self._reply(playlist={"id": pid, "name": req.arg("name"), "songCount": len(songs)})

    def do_deletePlaylist(self, req: Request) -> Response:
        with self.lock:
            gone = self.playlists.pop(req.arg("id", ""), None)
        return self._reply() if gone else self._reply(error=(70, "Playlist not found"))

    def do_getSong(self, req: Request) -> Response:
        t = self.library.track(req.arg("id", ""))
        if t is None:
            return self._reply(error=(70, "Song not found"))
        return self._reply(song={"id": t.item_id, "title": t.title, "duration": int(t.duration or 0),
                                 "size": Path(t.path_or_url).stat().st_size})

    def do_stream(self, req: Request) -> Response:
        """MP3 from ``timeOffset`` at ``maxBitRate`` when ``format=mp3`` is asked, else the file itself."""
        track = self.library.track(req.arg("id", ""))
        if track is None:
            return self._reply(error=(70, "Song not found"))
        if req.arg("format") == "mp3":
            offset, kbps = float(req.arg("timeOffset", "0")), int(req.arg("maxBitRate", "128"))
            return mp3_stream(track.path_or_url, offset, kbps)
        return audio_file(track.path_or_url)

    def do_download(self, req: Request) -> Response:
        track = self.library.track(req.arg("id", ""))
        return Response(200, Path(track.path_or_url).read_bytes()) if track else self._reply(error=(70, "Song not found"))

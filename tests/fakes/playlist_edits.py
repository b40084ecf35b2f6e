"""The playlist edits of each fake media server, as its documented API spells them, so ``replace_playlist``
can keep a playlist's id: Jellyfin's and Emby's ``/Playlists/{id}/Items`` (entries with their own
``PlaylistItemId``) and ``POST /Playlists/{id}`` (rename), Plex's ``/playlists/{id}/items`` (entries with a
``playlistItemID``) and ``PUT /playlists/{id}?title=``, Lyrion's ``playlists tracks`` and ``playlists edit
cmd:delete`` (its ``add`` skips a song the playlist already holds, as Lyrion's does), Subsonic's
``updatePlaylist``. Each fake's ``playlists`` dict stays the one truth: ``{id: (name, item ids)}``.
"""

from __future__ import annotations

import itertools

from tests.fakes.loopback import Request, Response

_entry_ids = itertools.count(1)


class _Entries:
    """Entry ids beside a fake's ``playlists``: rebuilt for a playlist whose songs changed another way."""

    def __init__(self, playlists: dict) -> None:
        self.playlists = playlists
        self.entries: dict[str, list[tuple[str, str]]] = {}

    def of(self, pid: str) -> list[tuple[str, str]]:
        ids = self.playlists[pid][1]
        held = self.entries.get(pid)
        if held is None or [i for _e, i in held] != ids:
            held = self.entries[pid] = [(f"e{next(_entry_ids)}", i) for i in ids]
        return held

    def set(self, pid: str, held: list[tuple[str, str]]) -> None:
        self.entries[pid] = held
        self.playlists[pid] = (self.playlists[pid][0], [i for _e, i in held])


def install_jellyfin_edits(fake, root: str = "", rename: bool = True) -> None:
    """``root`` is ``"/emby"`` for Emby; ``rename`` False where the server has no rename call."""
    entries = _Entries(fake.playlists)

    def target(req: Request) -> tuple[str | None, str]:
        parts = req.path.strip("/").split("/")
        parts = parts[parts.index("Playlists"):]  # Playlists/{id}[/Items]
        pid = parts[1] if len(parts) > 1 else None
        return (pid if pid in fake.playlists else None), (parts[2] if len(parts) > 2 else "")

    def get_items(req: Request) -> Response:
        pid, tail = target(req)
        if pid is None or tail != "Items":
            return Response(404, b"")
        return Response(200, {"Items": [{"Id": i, "PlaylistItemId": e, "Type": "Audio"} for e, i in entries.of(pid)],
                              "TotalRecordCount": len(entries.of(pid))})

    def post(req: Request) -> Response:
        pid, tail = target(req)
        if pid is None:
            return Response(404, b"")
        if tail == "Items":
            ids = [i for i in (req.arg("Ids") or "").split(",") if i]
            if any(fake.library.track(i) is None for i in ids) or not req.arg("UserId"):
                return Response(400, b"unknown item or no user")
            entries.set(pid, entries.of(pid) + [(f"e{next(_entry_ids)}", i) for i in ids])
            return Response(204, b"")
        if tail == "" and rename:  # Jellyfin 10.9+: UpdatePlaylistDto
            name = (req.json() or {}).get("Name")
            if name:
                fake.playlists[pid] = (name, fake.playlists[pid][1])
            return Response(204, b"")
        return Response(404, b"")

    def delete(req: Request) -> Response:
        pid, tail = target(req)
        if pid is None or tail != "Items":
            return Response(404, b"")
        gone = set((req.arg("EntryIds") or "").split(","))
        entries.set(pid, [(e, i) for e, i in entries.of(pid) if e not in gone])
        return Response(204, b"")

    for method, fn in (("GET", get_items), ("POST", post), ("DELETE", delete)):
        fake.prefix_routes.insert(0, (method, f"{root}/Playlists/", fake._guard(fn)))


def install_plex_edits(fake) -> None:
    entries = _Entries(fake.playlists)
    prefix = f"server://{fake.machine}/com.plexapp.plugins.library/library/metadata/"

    def parts(req: Request) -> tuple[str | None, list[str]]:
        rest = req.path.strip("/").split("/")[1:]  # playlists/{id}[/items[/{entry}]]
        return (rest[0] if rest and rest[0] in fake.playlists else None), rest[1:]

    def get_items(req: Request) -> Response:
        pid, tail = parts(req)
        if pid is None or tail != ["items"]:
            return Response(404, b"")
        return fake._mc(Metadata=[{"ratingKey": i, "playlistItemID": e, "type": "track"} for e, i in entries.of(pid)])

    def put(req: Request) -> Response:
        pid, tail = parts(req)
        if pid is None:
            return Response(404, b"")
        if tail == ["items"]:
            uri = req.arg("uri") or ""
            ids = uri[len(prefix):].split(",") if uri.startswith(prefix) else []
            if not ids or any(fake.library.track(i) is None for i in ids):
                return Response(400, b"bad uri")
            entries.set(pid, entries.of(pid) + [(f"e{next(_entry_ids)}", i) for i in ids])
            return fake._mc(Metadata=[{"ratingKey": pid, "leafCount": len(fake.playlists[pid][1])}])
        if not tail and req.arg("title"):
            fake.playlists[pid] = (req.arg("title"), fake.playlists[pid][1])
            return Response(200, b"")
        return Response(400, b"")

    def delete_entry(req: Request) -> Response:
        pid, tail = parts(req)
        if pid is None or len(tail) != 2 or tail[0] != "items":
            return fake.delete_playlist(req)  # DELETE /playlists/{id}: the playlist itself
        held = entries.of(pid)
        if tail[1] not in {e for e, _i in held}:
            return Response(404, b"")
        entries.set(pid, [(e, i) for e, i in held if e != tail[1]])
        return fake._mc(Metadata=[])

    for method, fn in (("GET", get_items), ("PUT", put), ("DELETE", delete_entry)):
        fake.prefix_routes.insert(0, (method, "/playlists/", fake._guard(fn)))


def install_lyrion_edits(fake) -> None:
    original = fake.routes[("POST", "/jsonrpc.js")]

    def jsonrpc(req: Request) -> Response:
        body = req.json()
        cmd = body["params"][1]
        args = {a.split(":", 1)[0]: a.split(":", 1)[1] for a in cmd[1:] if isinstance(a, str) and ":" in a}
        if cmd[0] != "playlists" or cmd[1] not in ("tracks", "edit"):
            return original(req)
        ids = fake.playlists.get(args.get("playlist_id"), (None, None))[1]
        if ids is None:
            return Response(200, {"id": body.get("id"), "params": body["params"], "result": {}})
        if cmd[1] == "tracks":
            start, size = int(cmd[2]), int(cmd[3])
            result = {"count": len(ids), "playlisttracks_loop": [{"id": i} for i in ids[start:start + size]]}
        elif args.get("cmd") == "delete":
            del ids[int(args["index"])]
            result = {}
        elif args.get("cmd") == "add":
            if args["track_id"] not in ids:  # Lyrion adds a song only when the playlist lacks it
                ids.append(args["track_id"])
            result = {}
        else:
            return original(req)
        return Response(200, {"id": body.get("id"), "method": "slim.request", "params": body["params"], "result": result})

    fake.routes[("POST", "/jsonrpc.js")] = jsonrpc


def install_subsonic_edits(fake) -> None:
    def do_update(req: Request) -> Response:
        with fake.lock:
            pid = req.arg("playlistId", "")
            if pid not in fake.playlists:
                return fake._reply(error=(70, "Playlist not found"))
            name, ids = fake.playlists[pid]
            fake.playlists[pid] = (req.arg("name") or name, ids + req.query.get("songIdToAdd", []))
        return fake._reply()

    fake.do_updatePlaylist = do_update

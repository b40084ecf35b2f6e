"""``audiomuse-ray library``: what the configured provider sees, album by album."""

from __future__ import annotations

import argparse

from audiomuse_ray.commands.registry import command, print_json
from audiomuse_ray.providers import make_provider
from audiomuse_ray.settings import Settings


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recent", type=int, default=0, metavar="N", help="only the N most recently added albums")
    p.add_argument("--albums-only", action="store_true", help="do not list tracks")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


@command("library", "list the albums and tracks the media provider sees", _setup)
def library(settings: Settings, args: argparse.Namespace) -> int:
    provider = make_provider(settings)
    albums = provider.list_albums(args.recent)
    listing = []
    for album in albums:
        tracks = [] if args.albums_only else provider.list_tracks(album)
        listing.append((album, tracks))
    if args.json:
        print_json([
            {"id": a.id, "name": a.name, "artist": a.artist, "added_at": a.added_at,
             "tracks": [{"item_id": t.item_id, "track_number": t.track_number, "title": t.title, "artist": t.artist,
                         "duration": t.duration, "path_or_url": t.path_or_url} for t in tracks]}
            for a, tracks in listing
        ])
        return 0
    total = 0
    for album, tracks in listing:
        added = album.added_at.strftime("%Y-%m-%d") if album.added_at else "?"
        print(f"{album.artist} — {album.name}  [{album.track_count or len(tracks)} tracks, added {added}]")
        for t in tracks:
            minutes = f"{int(t.duration // 60)}:{int(t.duration % 60):02d}" if t.duration else "?:??"
            number = f"{t.track_number:>2}" if t.track_number is not None else " -"
            print(f"   {number}. {t.title} — {t.artist} ({minutes})")
        total += len(tracks) if tracks else (album.track_count or 0)
    print(f"{len(albums)} albums, {total} tracks ({provider.name} provider)")
    return 0

"""Collection-sync fixtures: the clip corpus transcoded into another library (B) with decoys, and the
corpus' fingerprints. A hub on loopback HTTP is ``hub_server.HubServer`` (the service's own routes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from audiomuse_ray.store.migrate import file_lock
from tests.conftest import CACHE

# Another format and bitrate for each source format, as a second server's copy of the library would be.
TRANSCODES = {
    ".ogg": ("mp3", ["-c:a", "libmp3lame", "-b:a", "160k"]),
    ".opus": ("m4a", ["-c:a", "aac", "-b:a", "128k"]),
    ".mp3": ("opus", ["-c:a", "libopus", "-b:a", "96k", "-ar", "48000"]),
    ".flac": ("ogg", ["-c:a", "libvorbis", "-q:a", "4"]),
    ".m4a": ("mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
}
N_DECOYS = 6
B_VERSION = "1"  # bump to rebuild the cached library after a change here


@dataclass(frozen=True)
class TranscodedLibrary:
    root: Path  # the music folder of instance B
    copies: dict[str, str]  # B path (relative to root) -> corpus path (relative to the corpus library)
    decoys: dict[str, tuple[str, str]]  # B path -> (corpus path whose tags it carries, corpus path of its audio)


def _tags(path: Path) -> list[str]:
    from audiomuse_ray.providers.local import read_tags

    t = read_tags(path)
    out = []
    for name, value in (("title", t.title), ("artist", t.artist), ("album", t.album), ("album_artist", t.album_artist),
                        ("track", t.track_number), ("genre", t.genre)):
        if value not in (None, ""):
            out += ["-metadata", f"{name}={value}"]
    return out


def _encode(src: Path, dest: Path, tags_from: Path) -> None:
    ext, codec = TRANSCODES[src.suffix]
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-map", "0:a:0",
                    "-map_metadata", "-1", *_tags(tags_from), *codec, str(dest)], check=True, timeout=120)


@pytest.fixture(scope="session")
def transcoded_library(corpus: Path) -> TranscodedLibrary:
    """Instance B's library: every corpus track in another format and bitrate, in other folders under other
    file names, with the same tags; and N_DECOYS files that carry a corpus track's tags (artist, title,
    album, and a duration within a second) but another track's audio. Built once, cached."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is needed to transcode the corpus")
    out = CACHE / f"collection-b-{B_VERSION}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(f"{out}.lock"):  # another xdist worker may be building it
        return _transcoded(corpus, out)


def _transcoded(corpus: Path, out: Path) -> TranscodedLibrary:
    stamp = out / "layout.json"
    if stamp.exists():
        data = json.loads(stamp.read_text())
        return TranscodedLibrary(out / "music", data["copies"], {k: tuple(v) for k, v in data["decoys"].items()})
    shutil.rmtree(out, ignore_errors=True)
    library = corpus / "library"
    sources = sorted(p for p in library.rglob("*") if p.suffix in TRANSCODES)
    copies, decoys, jobs = {}, {}, []
    for i, src in enumerate(sources):
        ext = TRANSCODES[src.suffix][0]
        rel = f"B-{i // 12:02d}/track-{i:03d}.{ext}"
        jobs.append((src, out / "music" / rel, src))
        copies[rel] = str(src.relative_to(library))
    # decoys: the tags of track k, the audio of a track from far away in the list (another album)
    for d in range(N_DECOYS):
        k = d * 11
        tags_of, audio_of = sources[k], sources[(k + len(sources) // 2) % len(sources)]
        ext = TRANSCODES[audio_of.suffix][0]
        rel = f"decoys/decoy-{d}.{ext}"
        jobs.append((audio_of, out / "music" / rel, tags_of))
        decoys[rel] = (str(tags_of.relative_to(library)), str(audio_of.relative_to(library)))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # one ffmpeg a core
        list(pool.map(lambda job: _encode(*job), jobs))
    stamp.write_text(json.dumps({"copies": copies, "decoys": decoys}))
    return TranscodedLibrary(out / "music", copies, decoys)


@pytest.fixture(scope="session")
def corpus_prints(corpus: Path) -> dict[str, tuple]:
    """corpus path (relative to the library) -> (Fingerprint, duration) for every corpus track."""
    from audiomuse_ray.analysis.acoustic import fingerprint_file

    library = corpus / "library"
    return {str(p.relative_to(library)): fingerprint_file(p)
            for p in sorted(library.rglob("*")) if p.suffix in TRANSCODES}

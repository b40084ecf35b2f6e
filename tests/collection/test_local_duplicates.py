"""A local duplicate (the same recording in two albums, or in two formats in one album) is analysed once:
the other copy is confirmed by its fingerprint and reuses the analysis; a decoy with the same tags is not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from audiomuse_ray.analysis.run import run_analysis
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store import open_store
from audiomuse_ray.store import tracks as track_store
from tests.collection.conftest import _tags
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def _encode(src: Path, dest: Path, tags_from: Path, *extra: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-map", "0:a:0",
                    "-map_metadata", "-1", *_tags(tags_from), *extra, "-c:a", "libmp3lame", "-b:a", "192k", str(dest)],
                   check=True, timeout=120)


@pytest.fixture(scope="module")
def library(corpus, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Four tracks of one album; three of them again on a "Best Of" album (MP3); the fourth again in the
    first album as MP3 (two formats); a track with the first one's tags and another's audio."""
    root = tmp_path_factory.mktemp("dups") / "music"
    album = sorted((corpus / "library" / "Planet Blupi" / "Blupi Tunes").iterdir())[:4]
    other = sorted((corpus / "library" / "Nexuiz" / "Arena Tracks").iterdir())[0]
    copy_of = {}
    for src in album:
        (root / "original").mkdir(parents=True, exist_ok=True)
        (root / "original" / src.name).symlink_to(src)
    for src in album[:3]:
        dest = root / "best-of" / f"{src.stem}.mp3"
        _encode(src, dest, src, "-metadata", "album=Best Of Blupi")
        copy_of[str(dest)] = str(root / "original" / src.name)
    dest = root / "original" / f"{album[3].stem} (mp3).mp3"
    _encode(album[3], dest, album[3])
    copy_of[str(dest)] = str(root / "original" / album[3].name)
    _encode(other, root / "decoy" / "decoy.mp3", album[0])
    return root, copy_of


def test_each_recording_is_analysed_once(ray_cluster, library, tmp_path):
    root, copy_of = library
    settings = Settings.load({}, data_dir=str(tmp_path), music_dir=str(root), models_dir=str(REPO / "models"))
    store = open_store(settings.database_url)
    summary = run_analysis(settings, store=store)
    assert summary.status == "SUCCESS"
    assert summary.analysed == 5 and summary.counts["copied"] == 4  # 4 originals + the decoy; 4 copies reused
    rows = {r.path_or_url: r for r in track_store.get_tracks(store, with_embeddings=True)}
    prints = fingerprint_store.get_fingerprints(store, [r.item_id for r in rows.values()])
    for copy, original in copy_of.items():  # whichever came first was analysed, the other reuses it
        assert sorted([prints[rows[copy].item_id].origin, prints[rows[original].item_id].origin]) == \
            ["analysed", "copied"], copy
        assert np.array_equal(rows[copy].embedding, rows[original].embedding)
    best_of = [rows[c] for c in copy_of if "/best-of/" in c]
    assert {r.album for r in best_of} == {"Best Of Blupi"}  # each copy keeps its own tags
    decoy = rows[str(root / "decoy" / "decoy.mp3")]
    first = rows[next(iter(copy_of.values()))]
    assert prints[decoy.item_id].tag_key == prints[first.item_id].tag_key  # it looks like the first track
    assert prints[decoy.item_id].origin == "analysed" and not np.array_equal(decoy.embedding, first.embedding)
    assert run_analysis(settings, store=store).analysed == 0  # and nothing is left to do
    store.dispose()

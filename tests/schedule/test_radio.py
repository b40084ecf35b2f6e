"""A radio's next playlist (pure): temperature 0 repeats itself, a positive temperature does not, the
repeat share and the recently-played skip hold, and the anchor's recipe follows ids, not rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from audiomuse_ray.errors import AnchorUnresolvable, BadRequest
from audiomuse_ray.providers.base import PlayRecord
from audiomuse_ray.schedule.anchors import parse_exclusions, parse_items, resolve
from audiomuse_ray.store.radio_records import Anchor, AnchorItem, Exclusion
from audiomuse_ray.schedule.radio import RadioOptions, next_playlist
from audiomuse_ray.similarity.artists import ArtistIndex
from tests.schedule.library import library

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)
SEEDS = (AnchorItem("song", "c0-t000"), AnchorItem("song", "c0-t001"))


@pytest.fixture(scope="module")
def lib():
    return library()


def anchor(*items, **kw) -> Anchor:
    return Anchor(None, "mix", tuple(items) or SEEDS, **kw)


def test_temperature_zero_is_the_same_top_n_every_time(lib):
    recipe = resolve(anchor(), lib)
    first = next_playlist(lib, recipe, RadioOptions(n=20))
    second = next_playlist(lib, recipe, RadioOptions(n=20), previous=first.item_ids)
    assert first.item_ids == second.item_ids and len(first.item_ids) == 20
    assert list(first.distances) == sorted(first.distances)
    assert not {"c0-t000", "c0-t001"} & set(first.item_ids)  # the anchor's own songs never come back
    assert all(i.startswith("c0-") for i in first.item_ids)  # its neighbourhood


def test_a_positive_temperature_draws_a_fresh_sample(lib):
    recipe = resolve(anchor(), lib)
    runs = [set(next_playlist(lib, recipe, RadioOptions(n=20, temperature=0.05), rng=np.random.default_rng(s)).item_ids)
            for s in range(4)]
    assert len({frozenset(r) for r in runs}) == 4
    assert all(len(r) == 20 for r in runs)
    again = next_playlist(lib, recipe, RadioOptions(n=20, temperature=0.05), rng=np.random.default_rng(0))
    assert set(again.item_ids) == runs[0]  # a seeded draw is repeatable


@pytest.mark.parametrize("share", [0.0, 0.25, 0.5])
def test_never_more_than_the_share_of_the_previous_run(lib, share):
    recipe = resolve(anchor(), lib)
    options = RadioOptions(n=20, temperature=0.0, max_repeat_share=share)
    previous = next_playlist(lib, recipe, RadioOptions(n=20)).item_ids
    for _ in range(3):
        run = next_playlist(lib, recipe, options, previous=previous)
        overlap = len(set(run.item_ids) & set(previous))
        assert overlap == run.repeated <= int(share * len(previous))
        assert len(run.item_ids) == 20  # the library had enough new songs to fill it
        previous = run.item_ids


def test_share_zero_on_a_tiny_library_gives_a_shorter_playlist_not_a_repeat():
    lib = library(n_clusters=1, per_cluster=12)
    recipe = resolve(anchor(), lib)
    first = next_playlist(lib, recipe, RadioOptions(n=8))
    second = next_playlist(lib, recipe, RadioOptions(n=8, max_repeat_share=0.0), previous=first.item_ids)
    assert not set(second.item_ids) & set(first.item_ids)
    assert len(second.item_ids) == 12 - 2 - 8  # all that is left once the seeds and the last run are out


def test_songs_played_in_the_last_n_days_are_skipped(lib):
    recipe = resolve(anchor(), lib)
    top = next_playlist(lib, recipe, RadioOptions(n=10)).item_ids
    history = [PlayRecord(top[0], 40, NOW - timedelta(days=2)), PlayRecord(top[1], 3, NOW - timedelta(days=6, hours=23)),
               PlayRecord(top[2], 9, NOW - timedelta(days=30)), PlayRecord(top[3], 1, None)]
    run = next_playlist(lib, recipe, RadioOptions(n=10, skip_played_days=7), history=history, now=NOW)
    assert top[0] not in run.item_ids and top[1] not in run.item_ids
    assert top[2] in run.item_ids and top[3] in run.item_ids  # played long ago, or never said when
    assert run.skipped_recent == 2 and len(run.item_ids) == 10
    off = next_playlist(lib, recipe, RadioOptions(n=10, skip_played_days=0), history=history, now=NOW)
    assert off.item_ids == top


def test_exclusions_and_subtracted_songs(lib):
    base = next_playlist(lib, resolve(anchor(), lib), RadioOptions(n=30)).item_ids
    artist = lib.meta[lib.row(base[0])].author
    excluded = anchor(exclusions=(Exclusion("artist", id=artist), Exclusion("song", id=base[1])))
    run = next_playlist(lib, resolve(excluded, lib), RadioOptions(n=30)).item_ids
    assert base[1] not in run and all(lib.meta[lib.row(i)].author != artist for i in run)
    # a vector region: everything near the first cluster's seed is out
    region = anchor(exclusions=(Exclusion("vector", vector=tuple(float(x) for x in lib.vectors[lib.row("c0-t005")]),
                                          distance=0.3),))
    assert "c0-t005" not in next_playlist(lib, resolve(region, lib), RadioOptions(n=30)).item_ids
    # subtracting a song of the same cluster removes its close neighbours
    sub = anchor(*SEEDS, AnchorItem("song", base[0], "SUBTRACT"))
    recipe = resolve(sub, lib)
    assert base[0] not in next_playlist(lib, recipe, RadioOptions(n=30)).item_ids and recipe.subtract_centroid is not None


def test_artists_resolve_through_the_artist_index(lib):
    artists = ArtistIndex.build(lib)
    recipe = resolve(anchor(AnchorItem("artist", "id-artist-2-0")), lib, artists)
    run = next_playlist(lib, recipe, RadioOptions(n=10))
    assert all(i.startswith("c2-") for i in run.item_ids)
    by_name = resolve(anchor(AnchorItem("artist", "artist-2-0")), lib, artists)
    assert np.allclose(by_name.add_centroid, recipe.add_centroid)


def test_ids_the_library_lost_are_listed_and_a_centroid_is_the_last_resort(lib):
    recipe = resolve(anchor(AnchorItem("song", "gone"), *SEEDS), lib)
    assert recipe.missing == ("gone",)
    centroid = tuple(float(x) for x in lib.vectors[lib.row("c3-t000")])
    fallback = resolve(anchor(AnchorItem("song", "gone"), centroid=centroid), lib)
    assert next_playlist(lib, fallback, RadioOptions(n=5)).item_ids[0].startswith("c3-")
    with pytest.raises(AnchorUnresolvable):
        resolve(anchor(AnchorItem("song", "gone")), lib)
    with pytest.raises(AnchorUnresolvable, match="centroid"):
        resolve(anchor(AnchorItem("song", "gone"), centroid=(1.0, 2.0)), lib)


def test_json_forms():
    assert parse_items([{"id": "a"}, {"type": "artist", "id": "x", "op": "subtract"}]) == (
        AnchorItem("song", "a"), AnchorItem("artist", "x", "SUBTRACT"))
    for bad in ([], [{"id": ""}], [{"id": "a", "op": "SUBTRACT"}], [{"type": "album", "id": "a"}], "a"):
        with pytest.raises(BadRequest):
            parse_items(bad)
    assert parse_exclusions([{"vector": [1, 2], "distance": 0.1}, {"item_id": "s"}]) == (
        Exclusion("vector", vector=(1.0, 2.0), distance=0.1), Exclusion("song", id="s"))
    for bad in ([{"vector": []}], [{"vector": [1], "distance": "far"}], [{"vector": [float("nan")]}], {"a": 1}):
        with pytest.raises(BadRequest):
            parse_exclusions(bad)

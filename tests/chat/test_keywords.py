"""Keyword mode: words map to tags, moods, tempo and energy; judged on the analysed corpus, where "calm
ambient", "aggressive metal" and "happy" must return songs whose stored tags and moods match the words."""

from __future__ import annotations

import statistics

import pytest

from audiomuse_ray.chat import keywords
from audiomuse_ray.chat.service import ChatRequest, instant_playlist
from audiomuse_ray.store import tracks as track_store


def test_plan_maps_words_and_pairs():
    p = keywords.plan("Fast heavy metal for the gym, energetic and angry")
    assert "heavy metal" in p.tags and "aggressive" in p.moods and p.energy and p.min_tempo == keywords.FAST_BPM
    assert "gym" in p.unknown
    assert keywords.plan("slow sad 80s").max_tempo == keywords.SLOW_BPM
    assert keywords.plan("hip hop").tags == ("Hip-Hop",)
    assert keywords.plan("2000s party").tags == ("00s", "party") and keywords.plan("2000s party").moods == ("party",)
    assert keywords.plan("something nice").empty
    with pytest.raises(ValueError):
        keywords.build_sql(keywords.plan("something nice"))


@pytest.fixture(scope="module")
def library(analysed_corpus):
    settings, store, _summary = analysed_corpus
    return settings, store, {t.item_id: t for t in track_store.get_tracks(store)}


def _ask(settings, store, words: str):
    result = instant_playlist(settings, store, ChatRequest(words, provider="KEYWORDS"))
    assert result.songs, result.message
    assert result.executed_query and result.executed_query.endswith("LIMIT 25")
    return result.songs


def _median(tracks, fn) -> float:
    return statistics.median(fn(t) for t in tracks.values())


@pytest.mark.integration
def test_calm_ambient_returns_ambient_or_relaxed_songs(library):
    settings, store, tracks = library
    songs = _ask(settings, store, "calm ambient")
    relaxed_median = _median(tracks, lambda t: t.other_features.get("relaxed", 0))
    for song in songs:
        t = tracks[song.item_id]
        calm_tags = {"ambient", "chillout", "Mellow"} & set(t.mood_vector)
        assert calm_tags or t.other_features["relaxed"] > relaxed_median, (t.title, t.mood_vector, t.other_features)
    # the first ones carry the ambient tag strongly, and the whole list is more relaxed than the library
    assert all(tracks[s.item_id].mood_vector.get("ambient", 0) >= 0.2 for s in songs[:5])
    chosen = statistics.mean(tracks[s.item_id].other_features["relaxed"] for s in songs)
    assert chosen > statistics.mean(t.other_features["relaxed"] for t in tracks.values())


@pytest.mark.integration
def test_aggressive_metal_returns_the_most_aggressive_songs_metal_first(library):
    settings, store, tracks = library
    songs = _ask(settings, store, "aggressive metal")
    metal = {i for i, t in tracks.items() if {"metal", "heavy metal"} & set(t.mood_vector)}
    assert metal and metal <= {s.item_id for s in songs[: len(metal)]}  # the metal-tagged songs lead
    aggression = sorted((t.other_features["aggressive"] for t in tracks.values()), reverse=True)
    for song in songs:
        t = tracks[song.item_id]
        assert song.item_id in metal or t.other_features["aggressive"] >= aggression[len(songs) + len(metal)], t.title


@pytest.mark.integration
def test_happy_returns_the_happiest_songs(library):
    settings, store, tracks = library
    songs = _ask(settings, store, "happy")
    # the songs with the highest stored happy scores, best first (equal scores may come in any order)
    happiest = sorted((t.other_features["happy"] for t in tracks.values()), reverse=True)
    assert [tracks[s.item_id].other_features["happy"] for s in songs] == happiest[: len(songs)]
    happy_median = _median(tracks, lambda t: t.other_features["happy"])
    assert all(tracks[s.item_id].other_features["happy"] > happy_median for s in songs)

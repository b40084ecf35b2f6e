"""Recording identity: tags find candidates, the fingerprint confirms. Every corpus track transcoded to
another format and bitrate confirms against its original; a decoy (a corpus track's tags, other audio),
silence and noise never confirm; no two different corpus tracks confirm each other."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from audiomuse_ray.analysis import acoustic
from audiomuse_ray.recording.identity import durations_agree, normalise_artist, normalise_title, tag_key
from audiomuse_ray.providers.local import read_tags


@pytest.mark.parametrize("a, b", [
    (("The Beatles", "Let It Be (Remastered 2009)"), ("Beatles", "Let it be")),
    (("Björk", "Jóga"), ("BJORK", "Joga")),
    (("Daft Punk feat. Pharrell Williams", "Get Lucky [Radio Edit]"), ("Daft Punk", "Get Lucky")),
    (("Simon & Garfunkel", "The Boxer"), ("Simon and Garfunkel", "The  Boxer")),
    (("AC/DC", "T.N.T."), ("AC/DC", "TNT")),
])
def test_spellings_of_one_recording_share_a_key(a, b):
    assert tag_key(*a) == tag_key(*b) is not None


def test_different_songs_or_artists_do_not_share_a_key():
    assert tag_key("Queen", "Bohemian Rhapsody") != tag_key("Queen", "Radio Ga Ga")
    assert tag_key("Queen", "Bohemian Rhapsody") != tag_key("Panic! at the Disco", "Bohemian Rhapsody")
    assert tag_key("Someone", "") is None and tag_key("Someone", "(untitled)") is None
    assert normalise_artist("  ") == "" and normalise_title("Dancing with Myself") == "dancing with myself"


def test_durations_agree_within_three_seconds_or_two_percent():
    assert durations_agree(100.0, 102.5) and not durations_agree(100.0, 103.5)
    assert durations_agree(600.0, 611.0) and not durations_agree(600.0, 613.0)
    assert durations_agree(None, 200.0)  # a server that gives no length: the fingerprint still decides


def _items(fp) -> np.ndarray:
    return fp.items()


def test_every_transcoded_corpus_track_confirms_its_original(transcoded_library, corpus_prints):
    failures = []
    worst = 0.0
    for b_path, source in transcoded_library.copies.items():
        fp, duration = acoustic.fingerprint_file(transcoded_library.root / b_path)
        original, original_duration = corpus_prints[source]
        cmp = acoustic.compare(_items(fp), _items(original))
        worst = max(worst, cmp.ber)
        if not (acoustic.same_recording(_items(fp), _items(original)) and durations_agree(duration, original_duration)):
            failures.append((b_path, source, round(cmp.ber, 3)))
    assert failures == [], failures
    assert worst < acoustic.MATCH_MAX_BER


def test_decoys_never_confirm_the_track_whose_tags_they_carry(transcoded_library, corpus_prints, corpus):
    for b_path, (tags_of, audio_of) in transcoded_library.decoys.items():
        decoy = transcoded_library.root / b_path
        original = corpus / "library" / tags_of
        mine, theirs = read_tags(decoy), read_tags(original)
        # the decoy does look like the track: the same key, a duration that agrees
        assert tag_key(mine.artist, mine.title) == tag_key(theirs.artist, theirs.title) is not None
        fp, duration = acoustic.fingerprint_file(decoy)
        assert durations_agree(duration, corpus_prints[tags_of][1])
        assert not acoustic.same_recording(_items(fp), _items(corpus_prints[tags_of][0])), b_path
        # and it is the other track's audio, which it does confirm
        assert acoustic.same_recording(_items(fp), _items(corpus_prints[audio_of][0])), b_path


def test_no_two_different_corpus_tracks_confirm_each_other(corpus_prints):
    items = {k: _items(fp) for k, (fp, _d) in corpus_prints.items()}
    assert all(acoustic.informative(v) for v in items.values())
    closest = min(acoustic.compare(items[a], items[b]).ber for a, b in itertools.combinations(items, 2))
    assert closest > acoustic.MATCH_MAX_BER


def test_silence_and_a_steady_tone_confirm_nothing_not_even_themselves(corpus):
    silence, _ = acoustic.fingerprint_file(corpus / "broken" / "silence.flac")
    assert not acoustic.informative(_items(silence))
    assert not acoustic.same_recording(_items(silence), _items(silence))
    tone = np.sin(2 * np.pi * 440 * np.arange(16000 * 30) / 16000).astype(np.float32) * 0.5
    t = acoustic.fingerprint_samples(tone)
    assert not acoustic.same_recording(_items(t), _items(t))


def test_a_fingerprint_covers_the_first_two_minutes_only(corpus):
    long = corpus / "broken" / "ninety-minutes.ogg"
    fp, duration = acoustic.fingerprint_file(long)
    assert fp.seconds == pytest.approx(acoustic.FINGERPRINT_SECONDS, abs=0.1)
    assert duration > 80 * 60
    assert len(fp.chromaprint) < 2000  # ~1 KB of base64 for two minutes


def test_unreadable_fingerprints_confirm_nothing():
    assert acoustic.decode("not a fingerprint").shape == (0,)
    assert not acoustic.same_recording(acoustic.decode(""), acoustic.decode(""))

"""The hub's use cases on SQLite and PostgreSQL: tokens, model version, push and lookup keyed by recording
(confirmed by fingerprint, never by tags alone), many clients pushing at once."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from audiomuse_ray.collection import hub
from audiomuse_ray.recording.identity import TagQuery
from audiomuse_ray.recording.records import SharedAnalysis
from audiomuse_ray.collection.tokens import parse_hub_tokens
from audiomuse_ray.errors import BadRequest, ConfigurationError, HubAuthError, HubModelMismatch
from audiomuse_ray.providers.local import read_tags
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import hub as hub_store

VERSION = "musicnn-onnx-test+tag-mapping-v1"
TOKENS = "alice:alice-token-123,bob:bob-token-4567"


def record(path, fp, duration, seed: int, version: str = VERSION) -> SharedAnalysis:
    tags = read_tags(path)
    rng = np.random.default_rng(seed)
    return SharedAnalysis(tags.artist, tags.title, tags.album, duration, fp.chromaprint, version, tempo=120.0 + seed,
                          key="C", scale="major", energy=0.1, mood_vector={"rock": 0.5, "pop": 0.25},
                          other_features={"happy": 0.3}, embedding=rng.standard_normal(200).astype(np.float32),
                          tags=rng.random(50).astype(np.float32))


@pytest.fixture
def corpus_records(corpus, corpus_prints) -> list[SharedAnalysis]:
    """One record per corpus track (real tags and fingerprints, made-up analysis numbers)."""
    return [record(corpus / "library" / rel, fp, d, i) for i, (rel, (fp, d)) in enumerate(sorted(corpus_prints.items()))]


def push(store, records, who="alice", version=VERSION) -> hub.PushResponse:
    return hub.push(store, hub.PushRequest(version, list(records)), model_version=VERSION, contributor=who)


# ------------------------------------------------------------------------------------------ tokens
def test_tokens_are_parsed_and_checked_without_ever_repeating_one():
    settings = Settings.load({"AUDIOMUSE_HUB_TOKENS": TOKENS})
    assert hub.authorise(settings, "Bearer bob-token-4567") == "bob"
    assert hub.authorise(settings, "bearer alice-token-123 ") == "alice"
    for header in (None, "", "Bearer", "Bearer wrong-token-000", "Basic alice-token-123", "alice-token-123"):
        with pytest.raises(HubAuthError) as err:
            hub.authorise(settings, header)
        assert "token" in str(err.value) and "alice-token-123" not in str(err.value)
        assert err.value.http_status == 401
    with pytest.raises(HubAuthError, match="not a collection hub"):
        hub.authorise(Settings.load({}), "Bearer alice-token-123")
    assert settings.public_dict()["hub_tokens_set"] is True and "hub_tokens" not in settings.public_dict()


@pytest.mark.parametrize("text, words", [
    ("alice", "not name:token"), ("alice:short", "shorter than 8"), (":abcdefghij", "not name:token"),
    ("a:abcdefghij,a:klmnopqrst", "twice"),
])
def test_a_malformed_token_list_is_refused_at_load_with_a_sentence(text, words):
    with pytest.raises(ConfigurationError, match=words) as err:
        Settings.load({"AUDIOMUSE_HUB_TOKENS": text})
    assert "abcdefghij" not in str(err.value) and "klmnopqrst" not in str(err.value)
    assert parse_hub_tokens(" ") == {}


# ------------------------------------------------------------------------------------------ push and lookup
def test_push_stores_each_recording_once_and_lookup_finds_it_by_tags(store, corpus_records):
    first = push(store, corpus_records[:6])
    assert [r.status for r in first.results] == [hub.STORED] * 6
    again = push(store, corpus_records[:6], who="bob")
    assert [r.status for r in again.results] == [hub.KNOWN] * 6
    assert [r.recording_id for r in again.results] == [r.recording_id for r in first.results]
    assert hub_store.count(store, VERSION) == 6 == hub.hub_info(store, VERSION).recordings

    queries = [TagQuery(r.artist, r.title, r.album, r.duration) for r in corpus_records[:7]]
    answer = hub.lookup(store, hub.LookupRequest(VERSION, queries), model_version=VERSION)
    for rec, res, found in zip(corpus_records[:6], first.results, answer.results):
        assert [c.recording_id for c in found] == [res.recording_id]
        assert np.array_equal(found[0].embedding, rec.embedding) and found[0].fingerprint == rec.fingerprint
        assert np.array_equal(found[0].tags, rec.tags) and found[0].mood_vector == rec.mood_vector
    assert answer.results[6] == []  # never pushed


def test_a_transcoded_copy_is_the_same_recording_and_a_decoy_is_not(store, corpus, corpus_records,
                                                                       transcoded_library):
    from audiomuse_ray.analysis.acoustic import fingerprint_file

    originals = {rel: rec for rel, rec in zip(sorted(transcoded_library.copies.values()), corpus_records)}
    push(store, originals.values())
    b_copy, source = next(iter(transcoded_library.copies.items()))
    fp, d = fingerprint_file(transcoded_library.root / b_copy)
    copy = record(transcoded_library.root / b_copy, fp, d, seed=999)  # another instance's analysis of it
    answer = push(store, [copy], who="bob").results[0]
    assert answer.status == hub.KNOWN
    stored = hub.lookup(store, hub.LookupRequest(VERSION, [TagQuery(copy.artist, copy.title, copy.album, d)]),
                        model_version=VERSION).results[0]
    assert [c.recording_id for c in stored] == [answer.recording_id]
    assert np.array_equal(stored[0].embedding, originals[source].embedding)  # the first push stays

    decoy_path, (tags_of, _audio_of) = next(iter(transcoded_library.decoys.items()))
    fp, d = fingerprint_file(transcoded_library.root / decoy_path)
    decoy = record(transcoded_library.root / decoy_path, fp, d, seed=1000)
    assert decoy.tag_key == originals[tags_of].tag_key
    assert push(store, [decoy], who="bob").results[0].status == hub.STORED  # same tags, other audio
    found = hub.lookup(store, hub.LookupRequest(VERSION, [TagQuery(decoy.artist, decoy.title, decoy.album, d)]),
                       model_version=VERSION).results[0]
    assert len(found) == 2  # both are candidates; only a client's fingerprint tells them apart


def test_lookup_leaves_out_candidates_whose_duration_disagrees(store, corpus_records):
    rec = corpus_records[0]
    push(store, [rec])
    near = TagQuery(rec.artist, rec.title, rec.album, rec.duration + 2.0)
    far = TagQuery(rec.artist, rec.title, rec.album, rec.duration + 60.0)
    answer = hub.lookup(store, hub.LookupRequest(VERSION, [near, far]), model_version=VERSION)
    assert len(answer.results[0]) == 1 and answer.results[1] == []


def test_records_that_can_never_be_confirmed_are_refused_one_by_one(store, corpus_records):
    silent = replace(corpus_records[1], fingerprint="AQAAAA")
    untitled = replace(corpus_records[2], title=None)
    answer = push(store, [corpus_records[0], silent, untitled])
    assert [r.status for r in answer.results] == [hub.STORED, hub.REFUSED, hub.REFUSED]
    assert answer.to_json()["refused"] == 2 and "fingerprint" in answer.results[1].reason
    assert hub_store.count(store) == 1


# ------------------------------------------------------------------------------------------ model version
def test_another_model_version_is_refused_with_a_sentence_and_nothing_is_stored(store, corpus_records):
    other = [replace(r, model_version="musicnn-onnx-other") for r in corpus_records[:3]]
    with pytest.raises(HubModelMismatch, match="musicnn-onnx-other") as err:
        push(store, other, version="musicnn-onnx-other")
    assert VERSION in str(err.value) and err.value.http_status == 409
    with pytest.raises(HubModelMismatch):  # one stray record refuses the whole request
        push(store, [corpus_records[0], other[1]])
    with pytest.raises(HubModelMismatch):
        hub.lookup(store, hub.LookupRequest("musicnn-onnx-other", []), model_version=VERSION)
    assert hub_store.count(store) == 0


# ------------------------------------------------------------------------------------------ many clients
def test_many_clients_pushing_the_same_recordings_at_once_store_each_once(store, corpus_records):
    records = corpus_records[:10]
    answers: list[hub.PushResponse] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def client(i: int) -> None:
        mine = [replace(r, embedding=r.embedding + i) for r in records]  # each client's own analysis numbers
        try:
            start.wait()
            answers.append(push(store, mine[i % 3:] + mine[:i % 3], who=f"client{i}"))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and len(answers) == 8
    assert hub_store.count(store, VERSION) == 10
    assert sum(a.count(hub.STORED) for a in answers) == 10
    with store.connect() as conn:
        stored = hub_store.candidates(conn, [r.tag_key for r in records], VERSION)
    assert sorted(len(v) for v in stored.values()) == [1] * 10
    answered = Counter(res.recording_id for a in answers for res in a.results)  # every client got the one id
    assert set(answered) == {v[0].recording_id for v in stored.values()} and set(answered.values()) == {8}


# ------------------------------------------------------------------------------------------ JSON shapes
def test_requests_round_trip_through_json_exactly(corpus_records):
    request = hub.PushRequest(VERSION, corpus_records[:3])
    back = hub.PushRequest.from_json(json.loads(json.dumps(request.to_json())))
    for a, b in zip(request.records, back.records):
        assert np.array_equal(a.embedding, b.embedding) and np.array_equal(a.tags, b.tags)
        assert (a.artist, a.title, a.album, a.duration, a.fingerprint) == (b.artist, b.title, b.album, b.duration, b.fingerprint)
    assert "path" not in json.dumps(request.to_json()) and "item_id" not in json.dumps(request.to_json())


@pytest.mark.parametrize("change, words", [
    ({"embedding": "not base64!"}, "base64"),
    ({"embedding": None}, "embedding"),
    ({"fingerprint": None}, "fingerprint"),
    ({"title": "x" * 5000}, "at most"),
    ({"tempo": "fast"}, "finite number"),
    ({"mood_vector": {"rock": None}}, "finite number"),
    ({"mood_vector": {"a,b": 0.5}}, "commas"),
])
def test_malformed_records_are_refused_with_a_sentence(corpus_records, change, words):
    data = {**corpus_records[0].to_json(), **change}
    with pytest.raises(BadRequest, match=words):
        SharedAnalysis.from_json(data)


def test_a_nan_embedding_and_an_oversized_batch_are_refused(corpus_records):
    nan = replace(corpus_records[0], embedding=np.full(200, np.nan, np.float32)).to_json()
    with pytest.raises(BadRequest, match="NaN"):
        SharedAnalysis.from_json(nan)
    with pytest.raises(BadRequest, match="At most"):
        hub.PushRequest.from_json({"model_version": VERSION, "records": [{}] * (hub.MAX_BATCH + 1)})
    with pytest.raises(BadRequest):
        hub.LookupRequest.from_json({"queries": []})

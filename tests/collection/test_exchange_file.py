"""Offline exchange: export -> import into an empty instance gives the same analyses (embeddings equal),
import follows the confirmation rule (decoys take nothing), files from a newer schema or another model
version are refused with a sentence, and a hub's table moves with its recording ids."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from audiomuse_ray.analysis.models import expected_version
from audiomuse_ray.cli import main
from audiomuse_ray.collection import hub
from audiomuse_ray.collection.parquet import (
    META_MODEL, META_SCHEMA, export_hub, export_library, import_into_hub, read_records, run_import,
)
from audiomuse_ray.recording.records import RECORD_SCHEMA
from audiomuse_ray.errors import ExchangeFileError
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store import hub as hub_store
from audiomuse_ray.store import open_store
from audiomuse_ray.store import tracks as track_store
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def version():
    return expected_version(REPO / "models")


@pytest.fixture(scope="module")
def exported(analysed_corpus, tmp_path_factory, version):
    settings, store, _ = analysed_corpus
    path = tmp_path_factory.mktemp("exchange") / "library.parquet"
    summary = export_library(store, path, version)
    return path, summary


def test_the_file_holds_every_analysis_with_its_keys_and_nothing_local(exported, analysed_corpus, version):
    path, summary = exported
    _settings, store, _ = analysed_corpus
    assert summary.records == len(track_store.analysed_ids(store, version)) >= 70 and summary.without_fingerprint == 0
    meta = pq.read_schema(path).metadata
    assert meta[META_SCHEMA] == str(RECORD_SCHEMA).encode() and meta[META_MODEL] == version.encode()
    columns = set(pq.read_schema(path).names)
    assert {"artist", "title", "album", "duration", "fingerprint", "embedding", "recording_id"} <= columns
    assert not columns & {"item_id", "path_or_url", "artist_id", "path"}


def test_export_then_import_into_an_empty_instance_gives_the_same_analyses(exported, analysed_corpus, ray_cluster,
                                                                          tmp_path):
    path, summary = exported
    a_settings, a_store, _ = analysed_corpus
    settings = Settings.load({}, data_dir=str(tmp_path), music_dir=a_settings.music_dir, models_dir=str(REPO / "models"))
    store = open_store(settings.database_url)
    result = run_import(settings, path, store=store)
    assert result.status == "SUCCESS" and result.counts["imported"] == summary.records and result.analysed == 0
    before = {r.item_id: r for r in track_store.get_tracks(a_store, with_embeddings=True)}
    after = track_store.get_tracks(store, with_embeddings=True)
    assert len(after) == summary.records
    for row in after:
        old = before[row.item_id]  # the same library gives the same ids
        assert np.array_equal(row.embedding, old.embedding) and np.array_equal(row.tags, old.tags)
        assert (row.tempo, row.key, row.scale, row.mood_vector, row.other_features, row.model_version) == \
            (old.tempo, old.key, old.scale, old.mood_vector, old.other_features, old.model_version)
    origins = {p.origin for p in fingerprint_store.get_fingerprints(store, [r.item_id for r in after]).values()}
    assert origins == {"imported"}
    store.dispose()


def test_import_into_another_library_follows_the_confirmation_rule(exported, ray_cluster, transcoded_library, tmp_path):
    path, summary = exported
    settings = Settings.load({}, data_dir=str(tmp_path), music_dir=str(transcoded_library.root),
                             models_dir=str(REPO / "models"))
    store = open_store(settings.database_url)
    result = run_import(settings, path, store=store)
    assert result.counts["imported"] >= 0.9 * len(transcoded_library.copies)
    assert result.counts["unmatched"] >= len(transcoded_library.decoys) and result.analysed == 0
    stored = {r.path_or_url for r in track_store.get_tracks(store)}
    assert not any(str(transcoded_library.root / d) in stored for d in transcoded_library.decoys)
    store.dispose()


def _rewrite(src, dest, meta: dict):
    table = pq.read_table(src)
    table = table.replace_schema_metadata({**table.schema.metadata, **meta})
    pq.write_table(table, dest)


def test_a_newer_schema_or_another_model_version_is_refused_with_a_sentence(exported, version, tmp_path):
    path, _ = exported
    newer = tmp_path / "newer.parquet"
    _rewrite(path, newer, {META_SCHEMA: str(RECORD_SCHEMA + 1).encode()})
    with pytest.raises(ExchangeFileError, match="newer audiomuse-ray.*Upgrade"):
        read_records(newer, version)
    other = tmp_path / "other.parquet"
    _rewrite(path, other, {META_MODEL: b"musicnn-onnx-0000000000+other"})
    with pytest.raises(ExchangeFileError, match="model version musicnn-onnx-0000000000\\+other.*cannot be mixed"):
        read_records(other, version)
    plain = tmp_path / "plain.parquet"
    pq.write_table(pq.read_table(path).replace_schema_metadata({}), plain)
    with pytest.raises(ExchangeFileError, match="not an audiomuse-ray exchange file"):
        read_records(plain, version)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(ExchangeFileError, match="not a readable Parquet file"):
        read_records(junk, version)
    assert len(read_records(path, version).records) > 0


def test_the_cli_refuses_a_file_of_another_model_version(exported, tmp_path, capsys):
    path, _ = exported
    other = tmp_path / "other.parquet"
    _rewrite(path, other, {META_MODEL: b"musicnn-onnx-0000000000+other"})
    code = main(["--data-dir", str(tmp_path / "d"), "--models-dir", str(REPO / "models"), "import", str(other),
                 "--no-progress"])
    assert code == 1 and "cannot be mixed" in capsys.readouterr().err


def test_a_hubs_shared_analyses_move_with_their_recording_ids(exported, version, tmp_path, capsys):
    path, _ = exported
    source = open_store(f"sqlite:///{tmp_path / 'hub-a.db'}")
    records = read_records(path, version).records
    pushed = hub.push(source, hub.PushRequest(version, records), model_version=version, contributor="a")
    assert pushed.count(hub.STORED) == len(records)
    shared = tmp_path / "shared.parquet"
    assert export_hub(source, shared, version).records == len(records)
    target_url = f"sqlite:///{tmp_path / 'hub-b.db'}"
    args = ["--database-url", target_url, "--models-dir", str(REPO / "models"), "import", str(shared), "--shared"]
    assert main(args) == 0 and f"{len(records)} stored" in capsys.readouterr().out
    target = open_store(target_url)
    with source.connect() as c1, target.connect() as c2:
        keys = [r.tag_key for r in records]
        a = {r.recording_id: r for v in hub_store.candidates(c1, keys, version).values() for r in v}
        b = {r.recording_id: r for v in hub_store.candidates(c2, keys, version).values() for r in v}
    assert set(a) == set(b) and all(np.array_equal(a[k].embedding, b[k].embedding) for k in a)
    again = import_into_hub(target, shared, version)
    assert again.count(hub.KNOWN) == len(records) and hub_store.count(target) == len(records)
    source.dispose()
    target.dispose()

"""Offline exchange: the shared records in a Parquet file, for a backup, a move to a new instance, or a hub
that cannot be reached.

The file holds the same records and keys as a hub (``records.SharedAnalysis``: tags, duration, fingerprint,
analysis numbers, the hub's recording id where known; no path, no local or media-server id) and, in its
metadata, ``audiomuse.schema_version`` and ``audiomuse.model_version``. A file from a newer schema or of
another model version is refused with a sentence. Importing into a library follows the sync's rule: a
record is stored for a local track only when the track's own fingerprint confirms it (``run_import``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from audiomuse_ray.recording.identity import TagQuery, durations_agree
from audiomuse_ray.recording.records import RECORD_SCHEMA, SharedAnalysis
from audiomuse_ray.errors import BadRequest, ExchangeFileError
from audiomuse_ray.store import Store
from audiomuse_ray.store import fingerprints as fingerprint_store
from audiomuse_ray.store import tracks as track_store
from audiomuse_ray.store.fingerprints import IMPORTED
from audiomuse_ray.store.tracks import format_features, parse_features

META_SCHEMA = b"audiomuse.schema_version"
META_MODEL = b"audiomuse.model_version"
META_KIND = b"audiomuse.kind"
META_CREATED = b"audiomuse.created_at"
KIND = b"audiomuse-ray shared analyses"
BATCH = 2000
IMPORT_TASK_TYPE = "collection_import"


def _schema():
    import pyarrow as pa

    floats = pa.list_(pa.float32())
    return pa.schema([
        ("recording_id", pa.string()), ("artist", pa.string()), ("title", pa.string()), ("album", pa.string()),
        ("duration", pa.float64()), ("fingerprint", pa.string()), ("model_version", pa.string()),
        ("tempo", pa.float64()), ("key", pa.string()), ("scale", pa.string()), ("energy", pa.float64()),
        ("mood_vector", pa.string()), ("other_features", pa.string()), ("embedding", floats), ("tags", floats),
    ])


def _columns(records: Sequence[SharedAnalysis]) -> dict[str, list]:
    return {
        "recording_id": [r.recording_id for r in records], "artist": [r.artist for r in records],
        "title": [r.title for r in records], "album": [r.album for r in records],
        "duration": [r.duration for r in records], "fingerprint": [r.fingerprint for r in records],
        "model_version": [r.model_version for r in records], "tempo": [r.tempo for r in records],
        "key": [r.key for r in records], "scale": [r.scale for r in records], "energy": [r.energy for r in records],
        "mood_vector": [format_features(r.mood_vector) for r in records],
        "other_features": [format_features(r.other_features) for r in records],
        "embedding": [np.asarray(r.embedding, np.float32) for r in records],
        "tags": [None if r.tags is None else np.asarray(r.tags, np.float32) for r in records],
    }


def write_records(path: str | Path, records: Iterable[SharedAnalysis], model_version: str) -> int:
    """Write ``records`` (all of ``model_version``) to ``path`` in batches; returns how many."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema().with_metadata({META_SCHEMA: str(RECORD_SCHEMA).encode(), META_MODEL: model_version.encode(),
                                      META_KIND: KIND, META_CREATED: datetime.now(timezone.utc).isoformat().encode()})
    n = 0
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{path}.partial")
    with pq.ParquetWriter(str(tmp), schema, compression="zstd") as writer:
        batch: list[SharedAnalysis] = []
        for record in records:
            if record.model_version != model_version:
                raise ValueError(f"a record of model version {record.model_version} in a file of {model_version}")
            batch.append(record)
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pydict(_columns(batch), schema=schema))
                n, batch = n + len(batch), []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pydict(_columns(batch), schema=schema))
            n += len(batch)
    tmp.replace(path)
    return n


@dataclass(frozen=True)
class ExchangeFile:
    path: Path
    schema_version: int
    model_version: str
    records: list[SharedAnalysis]


def read_records(path: str | Path, model_version: str) -> ExchangeFile:
    """The file's records, after checking that this audiomuse-ray can read it and that its analyses are
    of ``model_version``; ``ExchangeFileError`` with a sentence otherwise."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        meta = pq.read_schema(str(path)).metadata or {}
    except (OSError, pa.ArrowException) as exc:
        raise ExchangeFileError(f"{path} is not a readable Parquet file ({exc}).") from None
    if meta.get(META_KIND) != KIND or META_SCHEMA not in meta:
        raise ExchangeFileError(f"{path} is not an audiomuse-ray exchange file (no {META_SCHEMA.decode()} in its metadata).")
    try:
        schema_version = int(meta[META_SCHEMA])
    except ValueError:
        raise ExchangeFileError(f"{path} has an unreadable schema version {meta[META_SCHEMA]!r}.") from None
    if schema_version > RECORD_SCHEMA:
        raise ExchangeFileError(
            f"{path} was written by a newer audiomuse-ray (exchange schema {schema_version}; this one reads up to "
            f"{RECORD_SCHEMA}). Upgrade audiomuse-ray to import it.")
    theirs = meta.get(META_MODEL, b"").decode("utf-8", "replace")
    if theirs != model_version:
        raise ExchangeFileError(
            f"{path} holds analyses of model version {theirs or '(none)'}; this instance analyses with "
            f"{model_version}. Analyses of two model versions cannot be mixed: export again from an instance "
            "with the same models, or analyse the library here.")
    table = pq.read_table(str(path))
    records = []
    for row in table.to_pylist():
        try:
            records.append(_record(row, model_version))
        except (BadRequest, TypeError, ValueError) as exc:
            raise ExchangeFileError(f"{path} has a malformed record ({exc}).") from None
    return ExchangeFile(path, schema_version, theirs, records)


def _record(row: dict, model_version: str) -> SharedAnalysis:
    if row.get("model_version") != model_version:
        raise BadRequest(f"a record of model version {row.get('model_version')} in a file of {model_version}")
    if not row.get("fingerprint") or not row.get("embedding"):
        raise BadRequest("a record without a fingerprint or an embedding")
    tags = row.get("tags")
    return SharedAnalysis(
        artist=row.get("artist"), title=row.get("title"), album=row.get("album"), duration=row.get("duration"),
        fingerprint=row["fingerprint"], model_version=model_version, tempo=row.get("tempo"), key=row.get("key"),
        scale=row.get("scale"), energy=row.get("energy"), mood_vector=parse_features(row.get("mood_vector")),
        other_features=parse_features(row.get("other_features")),
        embedding=np.asarray(row["embedding"], np.float32), tags=None if tags is None else np.asarray(tags, np.float32),
        recording_id=row.get("recording_id"))


# ------------------------------------------------------------------------------------------ export
@dataclass(frozen=True)
class ExportSummary:
    records: int
    without_fingerprint: int  # analysed tracks left out: nothing could confirm them on import


def local_records(store: Store, model_version: str) -> tuple[Iterator[SharedAnalysis], int]:
    """This library's analyses of ``model_version`` that have a fingerprint, as records; and how many
    analysed tracks have none."""
    ids = sorted(track_store.analysed_ids(store, model_version))
    have = fingerprint_store.get_fingerprints(store, ids)

    def records() -> Iterator[SharedAnalysis]:
        with_print = [i for i in ids if i in have]
        for start in range(0, len(with_print), BATCH):
            for row in track_store.get_tracks(store, with_print[start:start + BATCH], with_embeddings=True):
                if row.embedding is not None:
                    yield SharedAnalysis.from_track(row, have[row.item_id])

    return records(), len(ids) - len(have)


def export_library(store: Store, path: str | Path, model_version: str) -> ExportSummary:
    records, missing = local_records(store, model_version)
    return ExportSummary(write_records(path, records, model_version), missing)


def export_hub(store: Store, path: str | Path, model_version: str) -> ExportSummary:
    """A hub's shared analyses of ``model_version``, with their recording ids."""
    from audiomuse_ray.store import hub as hub_store

    return ExportSummary(write_records(path, hub_store.iter_records(store, model_version, as_type=SharedAnalysis), model_version), 0)


# ------------------------------------------------------------------------------------------ import
class FileSource:
    """An exchange file's records as the ``Matcher``'s candidate source (``origin`` "imported")."""

    origin = IMPORTED

    def __init__(self, records: Sequence[SharedAnalysis]):
        self.by_key: dict[str, list[SharedAnalysis]] = {}
        for i, record in enumerate(records):
            if record.tag_key:
                self.by_key.setdefault(record.tag_key, []).append(record)

    def lookup(self, queries: Sequence[TagQuery]) -> list[list[SharedAnalysis]]:
        return [[r for r in self.by_key.get(q.key or "", []) if durations_agree(q.duration, r.duration)][:10]
                for q in queries]


def run_import(settings, path: str | Path, *, store: Store | None = None, task_id: str | None = None,
               on_progress: Callable | None = None, workers: int | None = None):
    """Import ``path`` into this library on Ray: each track not yet analysed with this model version is
    fingerprinted (two minutes of audio) and takes a record of the file only when the fingerprint confirms
    it; a track no record confirms is left for the next analysis. Returns the ``AnalysisSummary``
    (``counts["imported"]``, ``counts["unmatched"]``)."""
    from audiomuse_ray.analysis.models import expected_version
    from audiomuse_ray.analysis.run import run_analysis
    from audiomuse_ray.analysis import acoustic
    from audiomuse_ray.analysis.matching import Matcher

    acoustic.require_chromaprint()
    exchange = read_records(path, expected_version(settings.models_dir))
    source = FileSource(exchange.records)
    return run_analysis(settings, num_recent_albums=0, workers=workers, task_id=task_id, on_progress=on_progress,
                        store=store, task_type=IMPORT_TASK_TYPE, details={"file": Path(path).name,
                                                                           "records": len(exchange.records)},
                        exchange=lambda s, v: Matcher(s, v, source=source, analyse_unmatched=False))


def import_into_hub(store: Store, path: str | Path, model_version: str, contributor: str = "import"):
    """A file's records into this hub's shared analyses, by the push rule (a recording the hub has is
    kept, not duplicated); the file's recording ids are kept for new rows. Returns the ``PushResponse``."""
    from audiomuse_ray.collection.hub import PushRequest, PushResponse, push

    exchange = read_records(path, model_version)
    results = []
    for start in range(0, len(exchange.records), 200):
        chunk = exchange.records[start:start + 200]
        results += push(store, PushRequest(model_version, chunk), model_version=model_version,
                        contributor=contributor, keep_ids=True).results
    return PushResponse(results)

"""The library dashboard's numbers, each one SQL aggregate the database computes: nothing here reads the
library into Python, so the cost is a few scans of ``score`` whatever its size.

Moods are read out of ``other_features`` (``"danceable:0.61,aggressive:0.12,..."``) inside the query: the
text after ``,label:`` up to the next comma, as a number (SQLite's CAST reads a number's leading digits;
PostgreSQL cuts at the comma first). Per label: the mean score over the tracks that carry it, and how many
tracks have it as their strongest mood (AudioMuse-AI's coverage: ties count for no label).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Sequence

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, select, text

from audiomuse_ray.store.db import Store
from audiomuse_ray.store.schema import analysis_error, index_store, score
from audiomuse_ray.store.times import as_utc


HASH_WORK_MEM = "64MB"


@dataclass(frozen=True)
class LibraryCounts:
    tracks: int
    distinct_artists: int
    distinct_albums: int  # (album artist or artist, album) pairs, as AudioMuse-AI counts them
    failed: int  # analysis_error rows


@dataclass(frozen=True)
class MoodCoverage:
    label: str
    score: float | None  # mean over the tracks that carry the label
    count: int  # tracks whose strongest mood it is


@dataclass(frozen=True)
class TempoProfile:
    slow: int  # < 85 BPM
    medium: int  # 85-110
    fast: int  # 110-140
    very_fast: int  # >= 140
    avg_tempo: float | None


@dataclass(frozen=True)
class IndexInfo:
    version: int
    created_at: datetime


def library_counts(store: Store) -> LibraryCounts:
    nonblank = lambda col: and_(col.is_not(None), col != "")  # noqa: E731
    album_owner = func.coalesce(func.nullif(score.c.album_artist, ""), score.c.author)
    albums = select(album_owner.label("owner"), score.c.album).where(nonblank(score.c.album)).distinct().subquery()
    with store.connect() as conn:
        _room_to_hash(conn)
        tracks = conn.execute(select(func.count()).select_from(score)).scalar_one()
        artists = conn.execute(select(func.count()).select_from(  # a DISTINCT subquery hashes; COUNT(DISTINCT) sorts
            select(score.c.author).where(nonblank(score.c.author)).distinct().subquery())).scalar_one()
        n_albums = conn.execute(select(func.count()).select_from(albums)).scalar_one()
        failed = conn.execute(select(func.count()).select_from(analysis_error)).scalar_one()
    return LibraryCounts(int(tracks), int(artists), int(n_albums), int(failed))


def _room_to_hash(conn) -> None:
    """PostgreSQL: memory for this transaction's hash aggregates (400k distinct albums spill to disk at
    the default 4 MB, several times slower)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL work_mem = '{HASH_WORK_MEM}'"))


def _mood_value(dialect: str, label: str):
    """The number after ``,label:`` in ``other_features``, NULL when the label is absent."""
    features = literal(",") + func.coalesce(score.c.other_features, "")
    key = f",{label}:"
    if dialect == "postgresql":
        tail = func.split_part(features, key, 2)
        return cast(func.nullif(func.split_part(tail, ",", 1), ""), Float)
    at = func.instr(features, key)
    return case((at > 0, cast(func.substr(features, at + len(key)), Float)), else_=None)


def mood_coverage(store: Store, labels: Sequence[str]) -> list[MoodCoverage]:
    """Mean score and strongest-mood count of each label, in one scan."""
    if not labels:
        return []
    # OFFSET 0 keeps the planner from inlining the subquery, which would parse each value once per use
    values = select(*[_mood_value(store.dialect, lab).label(f"m{i}") for i, lab in enumerate(labels)]) \
        .where(score.c.other_features.is_not(None)).offset(0).subquery()
    cols = [values.c[f"m{i}"] for i in range(len(labels))]
    wins = []
    for i, col in enumerate(cols):
        others = [col > func.coalesce(o, -1.0) for j, o in enumerate(cols) if j != i]
        wins.append(func.sum(case((and_(col.is_not(None), *others), 1), else_=0)))
    with store.connect() as conn:
        row = conn.execute(select(*[func.avg(c) for c in cols], *wins)).one()
    k = len(labels)
    return [MoodCoverage(lab, None if row[i] is None else round(float(row[i]), 4), int(row[k + i] or 0))
            for i, lab in enumerate(labels)]


def tempo_profile(store: Store) -> TempoProfile:
    t = score.c.tempo
    count = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    stmt = select(count(and_(t > 0, t < 85)), count(and_(t >= 85, t < 110)), count(and_(t >= 110, t < 140)),
                  count(t >= 140), func.avg(case((t > 0, t), else_=None))).where(t.is_not(None))
    with store.connect() as conn:
        r = conn.execute(stmt).one()
    return TempoProfile(int(r[0] or 0), int(r[1] or 0), int(r[2] or 0), int(r[3] or 0),
                        None if r[4] is None else round(float(r[4]), 1))


def tempo_histogram(store: Store, width: int = 10) -> list[tuple[int, int]]:
    """(bucket's lowest BPM, tracks) for every bucket of ``width`` BPM that holds a track, slowest first."""
    bucket = cast(func.floor(score.c.tempo / width), Integer) * width
    stmt = select(bucket.label("b"), func.count()).where(score.c.tempo > 0).group_by("b").order_by("b")
    with store.connect() as conn:
        return [(int(b), int(n)) for b, n in conn.execute(stmt).all()]


def key_histogram(store: Store) -> list[tuple[str, str, int]]:
    """(key, scale, tracks) for every key found, most tracks first."""
    n = func.count().label("n")
    stmt = select(score.c.key, score.c.scale, n).where(score.c.key.is_not(None)).where(score.c.key != "") \
        .group_by(score.c.key, score.c.scale).order_by(n.desc(), score.c.key, score.c.scale)
    with store.connect() as conn:
        return [(k, s or "", int(c)) for k, s, c in conn.execute(stmt).all()]


def analysed_per_day(store: Store, since: datetime) -> list[tuple[str, int]]:
    """(ISO day, tracks analysed that day, UTC) from ``since`` on."""
    moment = func.timezone("UTC", score.c.analysed_at) if store.dialect == "postgresql" else score.c.analysed_at
    day = func.date(moment)
    since = since.astimezone(timezone.utc)
    stmt = select(day.label("d"), func.count()).where(score.c.analysed_at >= since).group_by("d").order_by("d")
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
    return [(d.isoformat() if isinstance(d, (date, datetime)) else str(d), int(n)) for d, n in rows]


def latest_index(store: Store, name: str) -> IndexInfo | None:
    """The newest version of an index and when it was built, without reading its bytes."""
    stmt = select(index_store.c.version, index_store.c.created_at).where(index_store.c.name == name) \
        .order_by(index_store.c.version.desc()).limit(1)
    with store.connect() as conn:
        r = conn.execute(stmt).first()
    return IndexInfo(int(r.version), as_utc(r.created_at)) if r else None

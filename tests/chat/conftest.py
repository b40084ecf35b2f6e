"""A small library in every table (score rows with real-looking tags and moods; one row with a SECRET
marker in each other table), and a snapshot of the whole database (tables, row counts, checksums)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, insert, select, text

from audiomuse_ray.store.schema import (analysis_error, embedding, index_store, map_projection, meta, playlist,
                                        score, task_status)

SECRET = "SECRET-not-for-chat"
MOODS = ["ambient", "electronic", "rock", "metal", "jazz", "pop", "80s", "dance", "chillout", "happy"]
FEATURES = ["danceable", "aggressive", "happy", "party", "relaxed", "sad"]


def score_rows(n: int = 20) -> list[dict]:
    rows = []
    for i in range(n):
        tags = [MOODS[(i + k) % len(MOODS)] for k in range(3)]
        mood_vector = ",".join(f"{t}:{round(0.6 - 0.15 * k, 4)}" for k, t in enumerate(tags))
        other = ",".join(f"{f}:{round(((i * 7 + j * 3) % 10) / 10, 4)}" for j, f in enumerate(FEATURES))
        rows.append({"item_id": f"song{i:03d}", "title": f"Song {i}", "author": f"Artist {i % 4}", "album": f"Album {i % 3}",
                     "tempo": 70.0 + 7 * i, "key": "C", "scale": "major", "mood_vector": mood_vector,
                     "energy": 0.01 * (i % 10), "other_features": other, "duration": 180.0 + i,
                     "path_or_url": f"/music/{i}.flac", "model_version": "test"})
    # a title that would make a backtracking regex take forever
    rows.append({**rows[0], "item_id": "song_aaa", "title": "a" * 40 + "!", "mood_vector": "rock:0.2"})
    return rows


def seed(store) -> None:
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with store.begin() as conn:
        conn.execute(insert(score), score_rows())
        conn.execute(insert(embedding), [{"item_id": "song000", "dim": 2, "vector": SECRET.encode(), "tags": b"x"}])
        conn.execute(insert(index_store), [{"name": SECRET, "version": 1, "data": b"idx", "id_map": json.dumps([SECRET]),
                                            "dim": 2, "created_at": now}])
        conn.execute(insert(map_projection), [{"index_name": SECRET, "index_version": 1, "method": "pca",
                                               "data": SECRET.encode(), "created_at": now}])
        conn.execute(insert(playlist), [{"name": SECRET, "item_ids": json.dumps([SECRET]), "provider": SECRET,
                                         "provider_playlist_id": SECRET, "created_at": now}])
        conn.execute(insert(task_status), [{"task_id": SECRET, "task_type": SECRET, "status": "SUCCESS", "progress": 100,
                                            "details": json.dumps({"log": [SECRET]}), "cancel_requested": False,
                                            "created_at": now, "updated_at": now}])
        conn.execute(insert(analysis_error), [{"item_id": SECRET, "path": SECRET, "error_class": SECRET,
                                               "message": SECRET, "at": now}])
        conn.execute(insert(meta).values(key=SECRET, value=SECRET))


def snapshot(store) -> dict:
    """Every table (in any non-system schema) with its row count and a checksum of its sorted rows, plus
    on PostgreSQL the roles' powers: what a statement could have changed."""
    out: dict = {}
    with store.connect() as conn:
        insp = inspect(conn)
        schemas = [s for s in insp.get_schema_names() if s not in ("information_schema",) and not s.startswith("pg_")]
        for schema in schemas:
            for name in insp.get_table_names(schema=schema):
                table = f'"{schema}"."{name}"' if store.dialect == "postgresql" else f'"{name}"'
                rows = sorted(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in r))
                              for r in conn.execute(text(f"SELECT * FROM {table}")))
                out[f"{schema}.{name}"] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        if store.dialect == "postgresql":
            out["roles"] = sorted(tuple(r) for r in conn.execute(text(
                "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolbypassrls FROM pg_roles")))
            out["grants"] = sorted(tuple(r) for r in conn.execute(text(
                "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE table_schema = 'public'")))
    return out


def score_ids(store) -> set[str]:
    with store.connect() as conn:
        return {r[0] for r in conn.execute(select(score.c.item_id))}


@pytest.fixture
def seeded(store):
    seed(store)
    return store

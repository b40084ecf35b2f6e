"""Serialised similarity indexes and their 2-D map projections, versioned so servers can hot-reload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.schema import index_store, map_projection

KEEP_VERSIONS = 2  # older versions are pruned; a replica still loading the previous one keeps working


@dataclass(frozen=True)
class StoredIndex:
    name: str
    version: int
    data: bytes
    item_ids: list[str]
    dim: int
    created_at: datetime


def save_index(store: Store, name: str, data: bytes, item_ids: list[str], dim: int,
               version: int | None = None) -> int:
    """Store a new version of index ``name`` and return its version number. ``version`` stores (or replaces)
    that version instead: an index derived from another one takes its version number."""
    with store.begin() as conn:
        if version is None:
            current = conn.execute(select(func.max(index_store.c.version)).where(index_store.c.name == name)).scalar()
            version = int(current or 0) + 1
        upsert(conn, index_store, [{
            "name": name, "version": version, "data": data, "id_map": json.dumps(item_ids),
            "dim": dim, "created_at": utcnow(),
        }], ["name", "version"])
        conn.execute(delete(index_store).where(index_store.c.name == name)
                     .where(index_store.c.version <= version - KEEP_VERSIONS))
    return version


def latest_index_version(store: Store, name: str) -> int | None:
    with store.connect() as conn:
        v = conn.execute(select(func.max(index_store.c.version)).where(index_store.c.name == name)).scalar()
    return int(v) if v is not None else None


def load_index(store: Store, name: str, version: int | None = None) -> StoredIndex | None:
    stmt = select(index_store).where(index_store.c.name == name)
    stmt = stmt.where(index_store.c.version == version) if version else stmt.order_by(index_store.c.version.desc()).limit(1)
    with store.connect() as conn:
        r = conn.execute(stmt).first()
    if r is None:
        return None
    return StoredIndex(r.name, r.version, bytes(r.data), json.loads(r.id_map), r.dim, r.created_at)


def save_projection(store: Store, index_name: str, index_version: int, method: str, data: bytes) -> None:
    with store.begin() as conn:
        upsert(conn, map_projection, [{
            "index_name": index_name, "index_version": index_version, "method": method,
            "data": data, "created_at": utcnow(),
        }], ["index_name", "index_version"])


def load_projection(store: Store, index_name: str, index_version: int) -> tuple[str, bytes] | None:
    with store.connect() as conn:
        r = conn.execute(select(map_projection.c.method, map_projection.c.data)
                         .where(map_projection.c.index_name == index_name)
                         .where(map_projection.c.index_version == index_version)).first()
    return (r.method, bytes(r.data)) if r else None

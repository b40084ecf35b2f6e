"""Serialised similarity indexes and their 2-D map projections, versioned so servers can hot-reload.

A version is a header row (``index_store``) and named parts (the Voyager bytes, the item ids, the metadata
columns...), each cut into ``CHUNK_BYTES`` chunks (``index_chunk``): no value nears a database's limit on
one value, and a reader streams a part chunk by chunk instead of holding it twice. The header is written
last, in the transaction that prunes old versions, so a reader that sees a version sees all of its parts.
Versions written before chunks existed keep their bytes in the header (``data``, ``id_map``) and are read
from there.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, Mapping

from sqlalchemy import delete, func, select

from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.schema import index_chunk, index_store, map_projection

KEEP_VERSIONS = 2  # older versions are pruned; a replica still loading the previous one keeps working
CHUNK_BYTES = 16 * 1024 * 1024  # 16 MiB: far below SQLite's and PostgreSQL's 1 GB per value
IDS = "ids"  # the part holding the item ids (an Arrow string array, row order)
DATA = "index"  # the part holding the serialised index


@dataclass(frozen=True)
class IndexHeader:
    """What a version holds, without its bytes. ``parts`` maps each part to its length in bytes; a version
    written before chunks existed (``legacy``) has its index and id map in the header row instead."""

    name: str
    version: int
    dim: int
    items: int | None
    parts: dict[str, int] = field(default_factory=dict)
    created_at: datetime | None = None
    legacy: bool = False


@dataclass(frozen=True)
class StoredIndex:
    name: str
    version: int
    data: bytes
    item_ids: list[str]
    dim: int
    created_at: datetime


def next_version(store: Store, name: str) -> int:
    """The number the next ``save_parts`` of ``name`` without a version will get."""
    with store.connect() as conn:
        current = conn.execute(select(func.max(index_store.c.version)).where(index_store.c.name == name)).scalar()
    return int(current or 0) + 1


Part = bytes | bytearray | memoryview | str | os.PathLike  # bytes, or the path of a file holding them


def save_parts(store: Store, name: str, parts: Mapping[str, Part], dim: int, items: int,
               version: int | None = None, chunk_bytes: int | None = None) -> int:
    """Store ``parts`` as a version of ``name`` (a new one, or ``version``, replaced) and return its number.

    Each part goes in ``chunk_bytes`` chunks, one transaction per chunk, read from its bytes or its file
    one chunk at a time; the header follows in the transaction that prunes versions older than
    ``KEEP_VERSIONS``."""
    version = next_version(store, name) if version is None else version
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    with store.begin() as conn:  # leftovers of a writer that died before its header
        conn.execute(delete(index_chunk).where(index_chunk.c.name == name).where(index_chunk.c.version == version))
    lengths = {}
    for part, data in parts.items():
        lengths[part] = 0
        for seq, chunk in enumerate(_chunks(data, chunk_bytes)):
            lengths[part] += len(chunk)
            with store.begin() as conn:
                conn.execute(index_chunk.insert(), [{"name": name, "version": version, "part": part, "seq": seq,
                                                     "data": chunk}])
    with store.begin() as conn:
        upsert(conn, index_store, [{"name": name, "version": version, "data": None, "id_map": None, "dim": dim,
                                    "created_at": utcnow(), "item_count": items, "parts": json.dumps(lengths)}],
               ["name", "version"])
        _prune(conn, name, version)
    return version


def _chunks(data: Part, size: int) -> Iterator[bytes]:
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            chunk = f.read(size)
            yield chunk  # an empty part is one empty chunk
            while chunk := f.read(size):
                yield chunk
        return
    view = memoryview(data).cast("B")
    for lo in range(0, max(1, len(view)), size):
        yield bytes(view[lo:lo + size])


def _prune(conn, name: str, version: int) -> None:
    old = version - KEEP_VERSIONS
    conn.execute(delete(index_store).where(index_store.c.name == name).where(index_store.c.version <= old))
    conn.execute(delete(index_chunk).where(index_chunk.c.name == name).where(index_chunk.c.version <= old))


def latest_index_version(store: Store, name: str) -> int | None:
    with store.connect() as conn:
        v = conn.execute(select(func.max(index_store.c.version)).where(index_store.c.name == name)).scalar()
    return int(v) if v is not None else None


def header(store: Store, name: str, version: int | None = None) -> IndexHeader | None:
    """The header of ``version`` (the newest when None), or None."""
    cols = [index_store.c.name, index_store.c.version, index_store.c.dim, index_store.c.item_count,
            index_store.c.parts, index_store.c.created_at, (index_store.c.data.is_not(None)).label("legacy")]
    stmt = select(*cols).where(index_store.c.name == name)
    stmt = stmt.where(index_store.c.version == version) if version else stmt.order_by(index_store.c.version.desc()).limit(1)
    with store.connect() as conn:
        r = conn.execute(stmt).first()
    if r is None:
        return None
    return IndexHeader(r.name, r.version, r.dim, r.item_count, json.loads(r.parts) if r.parts else {}, r.created_at,
                       bool(r.legacy))


def iter_part(store: Store, name: str, version: int, part: str) -> Iterator[bytes]:
    """The chunks of one part in order, fetched one at a time (one chunk in memory)."""
    seq = 0
    while True:
        with store.connect() as conn:
            data = conn.execute(select(index_chunk.c.data).where(index_chunk.c.name == name)
                                .where(index_chunk.c.version == version).where(index_chunk.c.part == part)
                                .where(index_chunk.c.seq == seq)).scalar()
        if data is None:
            return
        yield bytes(data)
        seq += 1


def read_part(store: Store, name: str, version: int, part: str, size: int | None = None) -> bytearray:
    """One part whole, filled chunk by chunk into one buffer (``size``: its length, when known)."""
    if size is None:
        return bytearray().join(iter_part(store, name, version, part))
    out = bytearray(size)
    at = 0
    for chunk in iter_part(store, name, version, part):
        out[at:at + len(chunk)] = chunk
        at += len(chunk)
    if at != size:
        raise ValueError(f"part {part!r} of {name} version {version} has {at} bytes, expected {size}")
    return out


# ------------------------------------------------------------------ a whole index in one call (small indexes)
def save_index(store: Store, name: str, data: bytes, item_ids: list[str], dim: int,
               version: int | None = None) -> int:
    """Store a version of index ``name`` (``data`` and the id map of its rows) and return its number.
    ``version`` stores (or replaces) that version instead: an index derived from another one takes its
    version number."""
    from audiomuse_ray.store.arrays import encode_strings

    return save_parts(store, name, {DATA: data, IDS: encode_strings(item_ids)}, dim, len(item_ids), version)


def load_index(store: Store, name: str, version: int | None = None) -> StoredIndex | None:
    """A version's index bytes and id map, whole (chunked or legacy)."""
    from audiomuse_ray.store.arrays import decode_strings

    head = header(store, name, version)
    if head is None:
        return None
    if head.legacy:
        data, ids = load_legacy(store, name, head.version)
        return StoredIndex(name, head.version, data, ids, head.dim, head.created_at)
    data = bytes(read_part(store, name, head.version, DATA, head.parts.get(DATA)))
    ids = decode_strings(read_part(store, name, head.version, IDS, head.parts.get(IDS))).to_pylist()
    return StoredIndex(name, head.version, data, ids, head.dim, head.created_at)


def load_legacy(store: Store, name: str, version: int) -> tuple[bytes, list[str]]:
    """The bytes and JSON id map a version written before revision 0006 keeps in its header row."""
    with store.connect() as conn:
        r = conn.execute(select(index_store.c.data, index_store.c.id_map).where(index_store.c.name == name)
                         .where(index_store.c.version == version)).one()
    return bytes(r.data), json.loads(r.id_map)


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

"""Anchors (saved alchemy recipes) and radios (anchors that make a playlist again and again).

A radio belongs to one anchor and goes with it (``ON DELETE CASCADE``); its row also keeps what its last
run wrote: the songs, so the next run can limit repeats, and the playlist id, so it replaces that playlist.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from audiomuse_ray.errors import AlreadyExists, UnknownAnchor, UnknownRadio
from audiomuse_ray.store.radio_records import VECTOR, Anchor, AnchorItem, Exclusion, Radio
from audiomuse_ray.store.db import Store, utcnow
from audiomuse_ray.store.schema import anchor as anchor_t
from audiomuse_ray.store.schema import radio as radio_t
from audiomuse_ray.store.tracks import decode_vector, encode_vector
from audiomuse_ray.store.times import as_utc

_UNSET = object()


def _items_json(items: Sequence[AnchorItem]) -> str:
    return json.dumps([i.to_json() for i in items])


def _exclusions_json(exclusions: Sequence[Exclusion]) -> str:
    return json.dumps([e.to_json() for e in exclusions])


def _centroid_bytes(centroid: Sequence[float] | None) -> bytes | None:
    return None if centroid is None else encode_vector(centroid)


def _anchor(r) -> Anchor:
    items = tuple(AnchorItem(i["type"], i["id"], i["op"]) for i in json.loads(r.items or "[]"))
    exclusions = tuple(
        Exclusion(VECTOR, vector=tuple(e["vector"]), distance=e.get("distance")) if "vector" in e
        else Exclusion(e["type"], id=e["id"])
        for e in json.loads(r.exclusions or "[]"))
    centroid = None
    if r.centroid is not None:
        data = bytes(r.centroid)
        centroid = tuple(float(x) for x in decode_vector(data, len(data) // 4))
    return Anchor(r.id, r.name, items, centroid, exclusions, r.subtract_distance, as_utc(r.created_at),
                  as_utc(r.updated_at))


# ------------------------------------------------------------------------------------------- anchors
def create_anchor(store: Store, name: str, items: Sequence[AnchorItem] = (), centroid: Sequence[float] | None = None,
                  exclusions: Sequence[Exclusion] = (), subtract_distance: float | None = None) -> Anchor:
    now = utcnow()
    try:
        with store.begin() as conn:
            new_id = conn.execute(insert(anchor_t).values(
                name=name, items=_items_json(items), centroid=_centroid_bytes(centroid),
                exclusions=_exclusions_json(exclusions), subtract_distance=subtract_distance, created_at=now,
                updated_at=now)).inserted_primary_key[0]
    except IntegrityError:
        raise AlreadyExists(f"An anchor named '{name}' already exists: pick another name, or update that one.") from None
    return get_anchor(store, int(new_id))


def get_anchor(store: Store, anchor_id: int) -> Anchor:
    with store.connect() as conn:
        r = conn.execute(select(anchor_t).where(anchor_t.c.id == anchor_id)).first()
    if r is None:
        raise UnknownAnchor(f"Anchor {anchor_id} not found.")
    return _anchor(r)


def list_anchors(store: Store) -> list[Anchor]:
    """Newest first, as AudioMuse-AI lists them."""
    with store.connect() as conn:
        rows = conn.execute(select(anchor_t).order_by(anchor_t.c.created_at.desc(), anchor_t.c.id.desc())).all()
    return [_anchor(r) for r in rows]


def update_anchor(store: Store, anchor_id: int, *, name: str | None = None, items=_UNSET, centroid=_UNSET,
                  exclusions=_UNSET, subtract_distance=_UNSET) -> Anchor:
    """Change the fields given; the others stay."""
    values: dict = {"updated_at": utcnow()}
    if name is not None:
        values["name"] = name
    if items is not _UNSET:
        values["items"] = _items_json(items)
    if centroid is not _UNSET:
        values["centroid"] = _centroid_bytes(centroid)
    if exclusions is not _UNSET:
        values["exclusions"] = _exclusions_json(exclusions)
    if subtract_distance is not _UNSET:
        values["subtract_distance"] = subtract_distance
    try:
        with store.begin() as conn:
            n = conn.execute(update(anchor_t).where(anchor_t.c.id == anchor_id).values(**values)).rowcount
    except IntegrityError:
        raise AlreadyExists(f"An anchor named '{name}' already exists: pick another name.") from None
    if not n:
        raise UnknownAnchor(f"Anchor {anchor_id} not found.")
    return get_anchor(store, anchor_id)


def delete_anchor(store: Store, anchor_id: int) -> None:
    """Delete an anchor and its radio."""
    with store.begin() as conn:
        conn.execute(delete(radio_t).where(radio_t.c.anchor_id == anchor_id))  # also where FKs are not enforced
        n = conn.execute(delete(anchor_t).where(anchor_t.c.id == anchor_id)).rowcount
    if not n:
        raise UnknownAnchor(f"Anchor {anchor_id} not found.")


# -------------------------------------------------------------------------------------------- radios
def _radio(r) -> Radio:
    return Radio(r.id, r.anchor_id, r.name, int(r.n_results), float(r.temperature), bool(r.enabled),
                 float(r.max_repeat_share), int(r.skip_played_days), tuple(json.loads(r.last_item_ids or "[]")),
                 r.provider_playlist_id, as_utc(r.last_run_at))


def _radio_select():
    return select(radio_t, anchor_t.c.name).select_from(radio_t.join(anchor_t, anchor_t.c.id == radio_t.c.anchor_id))


def create_radio(store: Store, anchor_id: int, n_results: int, temperature: float, enabled: bool = True,
                 max_repeat_share: float = 1.0, skip_played_days: int = 0) -> Radio:
    get_anchor(store, anchor_id)  # UnknownAnchor
    try:
        with store.begin() as conn:
            new_id = conn.execute(insert(radio_t).values(
                anchor_id=anchor_id, n_results=n_results, temperature=temperature, enabled=enabled,
                max_repeat_share=max_repeat_share, skip_played_days=skip_played_days,
                created_at=utcnow())).inserted_primary_key[0]
    except IntegrityError:
        raise AlreadyExists(f"Anchor {anchor_id} already has a radio: update that one instead.") from None
    return get_radio(store, int(new_id))


def get_radio(store: Store, radio_id: int) -> Radio:
    with store.connect() as conn:
        r = conn.execute(_radio_select().where(radio_t.c.id == radio_id)).first()
    if r is None:
        raise UnknownRadio(f"Radio {radio_id} not found.")
    return _radio(r)


def list_radios(store: Store, *, enabled_only: bool = False) -> list[Radio]:
    """By name, as AudioMuse-AI lists them."""
    stmt = _radio_select().order_by(anchor_t.c.name)
    if enabled_only:
        stmt = stmt.where(radio_t.c.enabled.is_(True))
    with store.connect() as conn:
        return [_radio(r) for r in conn.execute(stmt).all()]


def update_radio(store: Store, radio_id: int, **changes) -> Radio:
    """Change any of n_results, temperature, enabled, max_repeat_share, skip_played_days."""
    allowed = {"n_results", "temperature", "enabled", "max_repeat_share", "skip_played_days"}
    values = {k: v for k, v in changes.items() if k in allowed and v is not None}
    if values:
        with store.begin() as conn:
            n = conn.execute(update(radio_t).where(radio_t.c.id == radio_id).values(**values)).rowcount
        if not n:
            raise UnknownRadio(f"Radio {radio_id} not found.")
    return get_radio(store, radio_id)


def delete_radio(store: Store, radio_id: int) -> None:
    with store.begin() as conn:
        n = conn.execute(delete(radio_t).where(radio_t.c.id == radio_id)).rowcount
    if not n:
        raise UnknownRadio(f"Radio {radio_id} not found.")


def record_run(store: Store, radio_id: int, item_ids: Sequence[str], provider_playlist_id: str | None,
               at: datetime | None = None) -> None:
    """What a run wrote: the next run limits repeats against these songs and replaces this playlist."""
    with store.begin() as conn:
        conn.execute(update(radio_t).where(radio_t.c.id == radio_id).values(
            last_item_ids=json.dumps(list(item_ids)), provider_playlist_id=provider_playlist_id,
            last_run_at=at or utcnow()))

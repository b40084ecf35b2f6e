"""What every similarity route returns about a track, as columns built once per index version.

``TrackColumns`` holds the library's metadata in arrays (``columns.Strings``/``Coded``, numpy), stored
with the index version as one Arrow stream and read back zero-copy; ``columns[i]`` makes the familiar
``TrackMeta`` of one row when a route needs it. The hot paths read the arrays: ``signature`` (a hash of the
normalised artist and title) for the duplicate filters, ``author.codes`` for the artist caps, ``moods``
for the mood filter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa

from audiomuse_ray.labels import MOOD_LABELS
from audiomuse_ray.similarity.columns import Coded, IdLookup, Strings, hash_strings, ranks
from audiomuse_ray.store.arrays import decode_table, encode_table


@dataclass(frozen=True)
class TrackMeta:
    item_id: str
    title: str
    author: str
    album: str
    album_artist: str
    moods: dict[str, float] = field(default_factory=dict)  # other_features
    top_tag: str = "unknown"  # first label of mood_vector
    artist_id: str = ""  # the media server's id of ``author`` (empty when unknown)

    def row(self) -> dict:
        return {"item_id": self.item_id, "title": self.title, "author": self.author,
                "album": self.album or "unknown", "album_artist": self.album_artist or "unknown"}

    @cached_property  # normalising is the costliest step of the duplicate filters; frozen still allows this
    def signature(self) -> tuple[str, str]:
        return normalise(self.author), normalise(self.title)


def normalise(text: str | None) -> str:
    """Case- and accent-insensitive form: "Café  Ünïcode" -> "cafe unicode"."""
    text = text or ""
    if text.isascii():  # nothing to decompose: the common case, ten times cheaper
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def normalised(column: Strings) -> Strings:
    return Strings.of(normalise(v) for v in column)


def signatures(n_authors: Strings, n_titles: Strings) -> np.ndarray:
    """(n,) uint64: one hash per normalised (artist, title) pair, equal exactly when both are."""
    import pyarrow.compute as pc

    joined = pc.binary_join_element_wise(n_authors.arrow.cast(pa.string()), n_titles.arrow.cast(pa.string()),
                                         pa.scalar("\x1f", pa.string()))
    return hash_strings(Strings(joined))


class TrackColumns:
    """The metadata of a library's rows (row i = index row i). Built by ``build``, stored by ``to_bytes``."""

    TEXT = ("title",)
    CODED = ("author", "album", "album_artist", "artist_id", "top_tag")

    def __init__(self, ids: Strings, title: Strings, author: Coded, album: Coded, album_artist: Coded,
                 artist_id: Coded, top_tag: Coded, moods: np.ndarray, norms: np.ndarray,
                 id_hashes: np.ndarray | None = None, n_title: Strings | None = None,
                 signature: np.ndarray | None = None, title_rank: np.ndarray | None = None):
        """``id_hashes``, ``n_title``, ``signature`` and ``title_rank`` are derived from the others; a stored
        version carries them, so a replica's load computes no per-track hash, normalisation or sort."""
        self.ids, self.title, self.author, self.album = ids, title, author, album
        self.album_artist, self.artist_id, self.top_tag = album_artist, artist_id, top_tag
        self.moods = np.asarray(moods, np.float32).reshape(len(ids), len(MOOD_LABELS))  # NaN: not analysed
        self.norms = np.asarray(norms, np.float32)  # each row's vector length (the index keeps directions)
        self.lookup = IdLookup(ids, id_hashes)
        self.n_title = n_title if n_title is not None else normalised(title)  # search and resolve
        self.n_author = normalised(author.values)  # per distinct artist
        self.n_album = normalised(album.values)
        self.signature = (np.asarray(signature, np.uint64) if signature is not None else
                          signatures(Strings(self.n_author.arrow.take(pa.array(author.codes))), self.n_title))
        self.title_rank = np.asarray(title_rank, np.int32) if title_rank is not None else ranks(self.n_title)
        self.has_moods = ~np.isnan(self.moods).all(axis=1)
        self.no_author = author.code_of("")  # the code of an empty artist name (never an artist), or None

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, ids: Sequence[str], titles: Sequence[str | None], authors: Sequence[str | None],
              albums: Sequence[str | None], album_artists: Sequence[str | None], artist_ids: Sequence[str | None],
              top_tags: Sequence[str | None], moods: np.ndarray, norms: np.ndarray) -> "TrackColumns":
        return cls(Strings.of(ids), Strings.of(titles), Coded.of(authors), Coded.of(albums), Coded.of(album_artists),
                   Coded.of(artist_ids), Coded.of(t or "unknown" for t in top_tags), moods, norms)

    @classmethod
    def from_meta(cls, meta: Sequence[TrackMeta], norms: np.ndarray) -> "TrackColumns":
        return cls.build([m.item_id for m in meta], [m.title for m in meta], [m.author for m in meta],
                         [m.album for m in meta], [m.album_artist for m in meta], [m.artist_id for m in meta],
                         [m.top_tag for m in meta], mood_matrix([m.moods for m in meta]), norms)

    # ------------------------------------------------------------------ storing
    def ids_bytes(self) -> bytes:
        """The ids part: the item ids in row order, with their hashes (a reader sorts, never hashes)."""
        hashes = np.empty_like(self.lookup.sorted_hashes)
        hashes[self.lookup.order] = self.lookup.sorted_hashes
        return encode_table(pa.table({"value": self.ids.arrow, "hash": pa.array(hashes, pa.uint64())}))

    def to_bytes(self) -> bytes:
        """Everything but the ids (their own part): one Arrow stream."""
        cols = {"title": self.title.arrow, "n_title": self.n_title.arrow, "norm": pa.array(self.norms, pa.float32()),
                "signature": pa.array(self.signature, pa.uint64()), "title_rank": pa.array(self.title_rank, pa.int32())}
        cols.update({name: getattr(self, name).to_arrow() for name in self.CODED})
        cols.update({f"mood_{m}": pa.array(self.moods[:, j], pa.float32()) for j, m in enumerate(MOOD_LABELS)})
        return encode_table(pa.table(cols))

    @classmethod
    def from_bytes(cls, ids_data, columns_data) -> "TrackColumns":
        ids = decode_table(ids_data)
        t = decode_table(columns_data)
        moods = np.column_stack([_floats(t.column(f"mood_{m}")) for m in MOOD_LABELS])
        return cls(Strings(ids.column("value")), Strings(t.column("title")),
                   *[Coded.from_arrow(t.column(name)) for name in cls.CODED], moods=moods,
                   norms=_floats(t.column("norm")), id_hashes=_uints(ids.column("hash")),
                   n_title=Strings(t.column("n_title")),
                   signature=_uints(t.column("signature")) if "signature" in t.column_names else None,
                   title_rank=(t.column("title_rank").to_numpy().astype(np.int32, copy=False)
                               if "title_rank" in t.column_names else None))

    # ------------------------------------------------------------------ rows
    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> TrackMeta:
        i = int(i)
        return TrackMeta(self.ids[i], self.title[i], self.author[i], self.album[i], self.album_artist[i],
                         self.moods_of(i), self.top_tag[i], self.artist_id[i])

    def __iter__(self) -> Iterator[TrackMeta]:
        return (self[i] for i in range(len(self)))

    def moods_of(self, i: int) -> dict[str, float]:
        return {m: float(v) for m, v in zip(MOOD_LABELS, self.moods[i].tolist()) if v == v}

    def song(self, i: int) -> dict:
        """``self[i].row()`` without the rest of the row: the song dict every route returns (the hot path)."""
        i = int(i)
        return {"item_id": self.ids[i], "title": self.title[i], "author": self.author[i],
                "album": self.album[i] or "unknown", "album_artist": self.album_artist[i] or "unknown"}

    def nbytes(self) -> int:
        own = sum(getattr(self, n).nbytes() for n in ("ids", "title", "n_title", "n_author", "n_album", *self.CODED))
        arrays = (self.moods, self.norms, self.signature, self.has_moods, self.title_rank)
        return int(own + self.lookup.nbytes() + sum(a.nbytes for a in arrays))


def mood_matrix(moods: Sequence[dict[str, float]]) -> np.ndarray:
    """(n, 6) float32 of the six MOOD_LABELS values, NaN where a track has none."""
    out = np.full((len(moods), len(MOOD_LABELS)), np.nan, np.float32)
    for i, m in enumerate(moods):
        if m:
            out[i] = [m.get(label, 0.0) for label in MOOD_LABELS]
    return out


def _floats(column) -> np.ndarray:
    return column.to_numpy().astype(np.float32, copy=False)


def _uints(column) -> np.ndarray:
    return column.to_numpy().astype(np.uint64, copy=False)

"""Strings held as columns, and the id lookup, so a replica keeps no Python object per track.

- ``Strings``: an Arrow string array read through numpy views of its offsets and characters; one value is
  decoded when asked for (about a microsecond), a million values are two buffers.
- ``Coded``: a dictionary-encoded column (artists, albums, tags): an int32 code per row, each distinct value
  once. Codes are what the hot paths compare (an artist cap counts codes, not names).
- ``IdLookup``: item id -> row through a sorted array of 64-bit FNV-1a hashes of the ids; a hit is
  confirmed against the id itself, so a collision costs a comparison, never a wrong row.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


class Strings:
    """A read-only column of strings over an Arrow string array (32-bit offsets: 4 bytes a row, where a
    column reaches 2 GB of characters only past a hundred million rows; large_string is read as well)."""

    def __init__(self, array: pa.Array):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            raise TypeError(f"Strings needs a string array, got {array.type}")
        if array.null_count:
            array = array.fill_null("")
        self.arrow = array
        _validity, offsets, data = array.buffers()
        width = np.int64 if pa.types.is_large_string(array.type) else np.int32
        self.offsets = np.frombuffer(offsets, width)[array.offset:array.offset + len(array) + 1]
        self.data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)

    @classmethod
    def of(cls, values: Iterable[str | None]) -> "Strings":
        return cls(pa.array([v or "" for v in values], pa.string()))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        i = int(i)
        if i < 0:
            i += len(self)
        return self.data[self.offsets[i]:self.offsets[i + 1]].tobytes().decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def take(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        rows = np.asarray(rows, np.int64)
        if len(rows) < 16:  # a few values: slicing beats building an Arrow array
            return [self[r] for r in rows.tolist()]
        return self.arrow.take(pa.array(rows)).to_pylist()

    def to_pylist(self) -> list[str]:
        return self.arrow.to_pylist()

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.data.nbytes)


class Coded:
    """A dictionary-encoded column: ``codes`` (n,) int32 into ``values`` (each distinct string once)."""

    def __init__(self, codes: np.ndarray, values: Strings):
        self.codes = np.asarray(codes, np.int32)
        self.values = values

    @classmethod
    def of(cls, values: Iterable[str | None]) -> "Coded":
        return cls.from_arrow(pa.array([v or "" for v in values], pa.string()).dictionary_encode())

    @classmethod
    def from_arrow(cls, array: pa.Array) -> "Coded":
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if not pa.types.is_dictionary(array.type):
            array = array.cast(pa.string()).dictionary_encode()
        indices = array.indices.fill_null(0) if array.indices.null_count else array.indices
        return cls(indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False), Strings(array.dictionary))

    def to_arrow(self) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(self.codes, pa.int32()), self.values.arrow)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: int) -> str:
        return self.values[self.codes[int(i)]]

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def take(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        return self.values.take(self.codes[np.asarray(rows, np.int64)])

    def code_of(self, value: str) -> int | None:
        """The code of ``value``, None when no row has it (a scan of the distinct values)."""
        hits = np.nonzero(np.asarray(_equal(self.values.arrow, value)))[0]
        return int(hits[0]) if hits.size else None

    def nbytes(self) -> int:
        return int(self.codes.nbytes + self.values.nbytes())


def _equal(array: pa.Array, value: str):
    import pyarrow.compute as pc

    return pc.equal(array, pa.scalar(value, array.type)).fill_null(False)


def ranks(column: Strings) -> np.ndarray:
    """(n,) int32: each value's position in sorted order (equal values share one), for integer tie-breaks."""
    import pyarrow.compute as pc

    if not len(column):
        return np.zeros(0, np.int32)
    order = np.asarray(pc.sort_indices(column.arrow))
    values = column.arrow.take(pa.array(order))
    new = np.ones(len(order), bool)
    new[1:] = ~np.asarray(pc.equal(values.slice(1), values.slice(0, len(order) - 1)).fill_null(False))
    out = np.empty(len(order), np.int32)
    out[order] = np.cumsum(new) - 1
    return out


# ------------------------------------------------------------------------------------------ hashing
def hash_string(text: str) -> int:
    """64-bit FNV-1a of the UTF-8 bytes (the same number ``hash_strings`` gives for that row)."""
    h = FNV_OFFSET
    for b in text.encode("utf-8"):
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def hash_strings(column: Strings) -> np.ndarray:
    """(n,) uint64 FNV-1a of every value, vectorised: one pass per character position over the rows still
    that long (rows sorted by length, so each pass is a prefix), about the cost of reading the bytes."""
    n = len(column)
    lengths = column.lengths()
    order = np.argsort(-lengths, kind="stable")
    starts = column.offsets[:-1][order]
    sorted_lengths = lengths[order]
    h = np.full(n, FNV_OFFSET, np.uint64)
    prime = np.uint64(FNV_PRIME)
    longest = int(sorted_lengths[0]) if n else 0
    # active[j] = rows longer than j; sorted descending, so they are the first ``active[j]`` rows
    active = np.searchsorted(-sorted_lengths, -np.arange(longest), side="left")
    with np.errstate(over="ignore"):
        for j in range(longest):
            k = int(active[j])
            h[:k] = (h[:k] ^ column.data[starts[:k] + j].astype(np.uint64)) * prime
    out = np.empty(n, np.uint64)
    out[order] = h
    return out


class IdLookup:
    """item id -> row, over ``ids`` (a ``Strings`` column in row order) and their hashes."""

    def __init__(self, ids: Strings, hashes: np.ndarray | None = None):
        self.ids = ids
        hashes = hash_strings(ids) if hashes is None else np.asarray(hashes, np.uint64)
        self.order = np.argsort(hashes, kind="stable").astype(np.int32 if len(hashes) < 2**31 else np.int64)
        self.sorted_hashes = hashes[self.order]

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, item_id: str, default=None):
        if not isinstance(item_id, str):
            return default
        h = np.uint64(hash_string(item_id))
        lo = int(np.searchsorted(self.sorted_hashes, h, side="left"))
        while lo < len(self.sorted_hashes) and self.sorted_hashes[lo] == h:
            row = int(self.order[lo])
            if self.ids[row] == item_id:
                return row
            lo += 1
        return default

    def __getitem__(self, item_id: str) -> int:
        row = self.get(item_id)
        if row is None:
            raise KeyError(item_id)
        return row

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and self.get(item_id) is not None

    def rows(self, item_ids: Iterable[str]) -> np.ndarray:
        """Rows of many ids at once, -1 for an unknown one."""
        return np.array([self.get(i, -1) for i in item_ids], np.int64)

    def nbytes(self) -> int:
        return int(self.order.nbytes + self.sorted_hashes.nbytes)

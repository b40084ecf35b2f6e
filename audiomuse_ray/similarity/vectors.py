"""The embeddings a replica computes with, kept once: inside a float32 index, or beside a compact one.

- ``IndexVectors``: a cosine Voyager index stores each vector as its direction in float32; with the lengths
  kept aside (one float per track), ``vectors[rows]`` gives the original vectors back (to float32 rounding)
  instead of a second copy. Reading a few rows costs microseconds (``get_vectors``).
- ``HalfVectors``: beside an E4M3 index (one byte a dimension, which only approximates the vectors), the
  vectors as one float16 array: half of float32's 800 MB at a million tracks, and precise to about 1e-3,
  enough to re-rank the index's candidates exactly (``Library.neighbours``).

Both read as a (n, dim) float32 matrix: rows by index, whole-library products block by block.
"""

from __future__ import annotations

import numpy as np

BLOCK_ROWS = 65_536


class RowMatrix:
    """What a read-only (n, dim) float32 matrix offers the tools, over ``rows``; subclasses say how rows
    are read."""

    ndim = 2
    dtype = np.dtype(np.float32)
    shape: tuple[int, int]

    def rows(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, tuple):  # (rows, columns)
            head, rest = self[key[0]], key[1:]
            return head[rest] if head.ndim == 1 else head[(slice(None), *rest)]
        if isinstance(key, (int, np.integer)):
            i = int(key)
            return self.rows(np.array([i + len(self) if i < 0 else i]))[0]
        if isinstance(key, slice):
            key = np.arange(*key.indices(len(self)))
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.nonzero(rows)[0]
        rows = np.where(rows < 0, rows + len(self), rows).astype(np.int64)
        return self.rows(rows.ravel()).reshape(rows.shape + (self.shape[1],))

    def blocks(self, block: int = BLOCK_ROWS):
        """(first row, (rows, dim) block) over the whole matrix."""
        for lo in range(0, len(self), block):
            yield lo, self[lo:min(len(self), lo + block)]

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape, np.float32)
        for lo, block in self.blocks():
            out[lo:lo + len(block)] = block
        return out if dtype is None else out.astype(dtype)

    def __matmul__(self, other) -> np.ndarray:
        other = np.asarray(other, np.float32)
        return np.concatenate([b @ other for _lo, b in self.blocks()]) if len(self) else np.zeros(
            (0,) + other.shape[1:], np.float32)

    def astype(self, dtype, copy: bool = True) -> np.ndarray:
        return np.asarray(self, dtype)


class IndexVectors(RowMatrix):
    """Rows of a float32 cosine ``index`` (ids 0..n-1) times their ``norms`` (n,)."""

    def __init__(self, index, norms: np.ndarray):
        self.index = index
        self.norms = np.asarray(norms, np.float32)
        self.shape = (len(self.norms), int(index.num_dimensions))

    def rows(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 1:
            units = np.asarray(self.index.get_vector(int(rows[0])), np.float32)[None, :]
        else:
            units = np.asarray(self.index.get_vectors(rows.tolist()), np.float32).reshape(len(rows), self.shape[1])
        out = units * self.norms[rows][:, None]
        return np.nan_to_num(out, copy=False) if not np.isfinite(out).all() else out  # a zero vector stays zero

    def nbytes(self) -> int:
        return int(self.norms.nbytes)


class HalfVectors(RowMatrix):
    """Rows of a (n, dim) float16 array, read as float32."""

    def __init__(self, half: np.ndarray):
        self.half = np.asarray(half, np.float16)
        self.shape = (int(self.half.shape[0]), int(self.half.shape[1]))

    @classmethod
    def of(cls, matrix: np.ndarray) -> "HalfVectors":
        return cls(np.asarray(matrix, np.float32).astype(np.float16))

    def rows(self, rows: np.ndarray) -> np.ndarray:
        return self.half[rows].astype(np.float32)

    def nbytes(self) -> int:
        return int(self.half.nbytes)

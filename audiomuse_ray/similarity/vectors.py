"""The embeddings a replica computes with, read out of the Voyager index instead of kept twice.

A cosine Voyager index stores each vector as its direction in float32; with the lengths kept aside (one
float per track), ``IndexVectors[rows]`` gives the original vectors back (to float32 rounding). At a million
tracks that saves the 800 MB a separate matrix would take. Reading a few rows costs microseconds
(``get_vectors``); whole-library products go block by block.
"""

from __future__ import annotations

import numpy as np

BLOCK_ROWS = 65_536


class IndexVectors:
    """A read-only (n, dim) float32 matrix over ``index`` (ids 0..n-1) and ``norms`` (n,)."""

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, index, norms: np.ndarray):
        self.index = index
        self.norms = np.asarray(norms, np.float32)
        self.shape = (len(self.norms), int(index.num_dimensions))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, tuple):  # (rows, columns)
            head, rest = self[key[0]], key[1:]
            return head[rest] if head.ndim == 1 else head[(slice(None), *rest)]
        if isinstance(key, (int, np.integer)):
            i = int(key)
            i = i + len(self) if i < 0 else i
            return _scaled(np.asarray(self.index.get_vector(i), np.float32), self.norms[i])
        if isinstance(key, slice):
            key = np.arange(*key.indices(len(self)))
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.nonzero(rows)[0]
        rows = np.where(rows < 0, rows + len(self), rows).astype(np.int64)
        flat = rows.ravel()
        out = np.asarray(self.index.get_vectors(flat.tolist()), np.float32).reshape(len(flat), self.shape[1])
        return _scaled(out, self.norms[flat][:, None]).reshape(rows.shape + (self.shape[1],))

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

    def nbytes(self) -> int:
        return int(self.norms.nbytes)


def _scaled(units: np.ndarray, norms) -> np.ndarray:
    """Directions times lengths; a zero vector (whose direction Voyager leaves undefined) stays zero."""
    out = units * norms
    return np.nan_to_num(out, copy=False) if not np.isfinite(out).all() else out

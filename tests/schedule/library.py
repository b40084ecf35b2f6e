"""A small synthetic library for the radio tests: clusters of songs around a few directions, several
artists per cluster, so neighbours, artists and subtract regions all mean something."""

from __future__ import annotations

import numpy as np

from audiomuse_ray.similarity.library import Library, TrackMeta

DIM = 16


def vectors(n_clusters: int = 4, per_cluster: int = 60, seed: int = 0) -> tuple[np.ndarray, list[TrackMeta]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, DIM)) * 3
    vecs, meta = [], []
    for c in range(n_clusters):
        for i in range(per_cluster):
            vecs.append(centres[c] + rng.normal(size=DIM))
            artist = f"artist-{c}-{i % 5}"
            meta.append(TrackMeta(item_id=f"c{c}-t{i:03d}", title=f"Song {c}.{i}", author=artist, album=f"Album {c}",
                                  album_artist=artist, artist_id=f"id-{artist}"))
    return np.asarray(vecs, np.float32), meta


def library(**kwargs) -> Library:
    vecs, meta = vectors(**kwargs)
    return Library.from_arrays(vecs, meta)

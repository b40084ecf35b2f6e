"""The API in-process: the routers on a plain FastAPI app (``create_api``), over a real store holding a
small synthetic library with a built index, through Starlette's test client (no Ray, no Serve)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from audiomuse_ray.api import access
from audiomuse_ray.api.holder import LibraryHolder
from audiomuse_ray.providers import make_provider
from audiomuse_ray.serve.http_app import create_api
from audiomuse_ray.serve.services import Services, install
from audiomuse_ray.similarity.rebuild import rebuild_index
from audiomuse_ray.store import open_store
from audiomuse_ray.store.tracks import TrackRow, save_album

MOODS = ["danceable", "aggressive", "happy", "party", "relaxed", "sad"]


def synthetic_library(store, n: int = 60, seed: int = 0) -> list[str]:
    """``n`` tracks in 3 sound clusters (20 per artist), written through the store; returns their ids."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 200)).astype(np.float32)
    rows = []
    for i in range(n):
        c = i % 3
        vec = centres[c] + 0.3 * rng.normal(size=200).astype(np.float32)
        rows.append(TrackRow(item_id=f"t{i:03d}", title=f"Song {i}", author=f"Artist {c}", album=f"Album {c}",
                             album_artist=f"Artist {c}", tempo=90.0 + i, key="C", scale="major",
                             mood_vector={"rock": 0.3, "pop": 0.1}, energy=0.05,
                             other_features={m: 0.2 for m in MOODS}, duration=200.0, path_or_url=f"/m/{i}.flac",
                             model_version="test", embedding=vec / np.linalg.norm(vec), artist_id=f"a{c}"))
    save_album(store, rows)
    rebuild_index(store)
    return [r.item_id for r in rows]


@pytest.fixture(scope="module")
def library_client(tmp_path_factory):
    """(client, settings, ids): the API over a synthetic 60-track library on SQLite."""
    from audiomuse_ray.settings import Settings

    root = tmp_path_factory.mktemp("api")
    settings = Settings.load({}, data_dir=str(root / "data"), music_dir=str(root / "music"))
    (root / "music").mkdir()
    store = open_store(settings.database_url)
    ids = synthetic_library(store)
    holder = LibraryHolder(store)
    holder.refresh()
    saved = dict(access._state)
    access.configure("", "127.0.0.1")
    install(Services(settings, store, holder, make_provider))
    yield TestClient(create_api()), settings, ids
    access._state.update(saved)
    store.dispose()

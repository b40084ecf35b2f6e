"""An album's result carries the worker's resident memory, so a run can show whether it stays flat."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.analysis.album import AlbumJob, analyse_album, resident_bytes
from audiomuse_ray.analysis.models import load_models
from audiomuse_ray.providers.local import LocalFolderProvider
from tests.conftest import REPO


def test_resident_bytes_follows_memory_that_is_touched_and_freed():
    before = resident_bytes()
    block = np.ones(64 * 2**20, dtype=np.uint8)  # written, so its pages are resident
    during = resident_bytes()
    del block
    after = resident_bytes()
    assert 20 * 2**20 < before < 16 * 2**30
    assert during - before >= 60 * 2**20
    assert during - after >= 60 * 2**20  # large blocks go back to the system: RSS is "now", not the peak


@pytest.mark.slow
def test_an_album_result_reports_the_workers_rss(corpus, tmp_path):
    provider = LocalFolderProvider(corpus / "library", tmp_path / "playlists")
    album = min(provider.list_albums(0), key=lambda a: a.track_count)
    tracks = provider.list_tracks(album)[:2]
    models = load_models(REPO / "models")
    result = analyse_album(AlbumJob(album, tracks, "t-1"), models, provider, worker="w1")
    assert len(result.rows) == len(tracks) and result.worker == "w1"
    now = resident_bytes()
    # the ONNX session and the decoded audio are in there: well above a bare interpreter, close to "now"
    assert 80 * 2**20 < result.rss_bytes and abs(now - result.rss_bytes) < 64 * 2**20

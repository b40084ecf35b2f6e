"""Model manifest and version: what a stored analysis says it was made with."""

from __future__ import annotations

import json
import shutil

from audiomuse_ray.analysis.models import expected_version, load_manifest
from tests.conftest import REPO


def test_version_follows_the_weights_not_the_onnx_bytes(tmp_path):
    for name in ("manifest.json", "msd-musicnn.onnx", "mtt-musicnn.onnx"):
        shutil.copy(REPO / "models" / name, tmp_path / name)
    before = expected_version(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["models"]["msd-musicnn"]["sha256"] = "0" * 64  # a reconversion gives other bytes
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert expected_version(tmp_path) == before
    manifest["models"]["msd-musicnn"]["checkpoint_sha256"] = "1" * 64  # other weights: a new version
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert expected_version(tmp_path) != before
    assert before.endswith("+tag-mapping-v1")


def test_manifest_lists_the_msd_labels_in_model_order():
    m = load_manifest(REPO / "models")
    assert len(m.labels["msd-musicnn"]) == 50 and m.labels["msd-musicnn"][:3] == ["rock", "pop", "alternative"]
    assert m.input_name == "model/Placeholder:0" and m.embedding_output == "model/dense/BiasAdd:0"

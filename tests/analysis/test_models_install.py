"""``python -m audiomuse_ray.analysis.models install|check``: set-up copies the models built in the checkout
into the folder the service reads (DATA_DIR/models), and checks that copy, not the checkout's."""

from __future__ import annotations

import os

import pytest

from audiomuse_ray.analysis.models import install_models, main
from audiomuse_ray.errors import ModelNotBuilt
from tests.conftest import REPO

BUILT = REPO / "models"


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("AUDIOMUSE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AUDIOMUSE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_install_copies_once_then_leaves_an_identical_copy_alone(tmp_path):
    dest = tmp_path / "models"
    assert sorted(install_models(BUILT, dest)) == ["manifest.json", "msd-musicnn.onnx", "mtt-musicnn.onnx"]
    assert (dest / "msd-musicnn.onnx").read_bytes() == (BUILT / "msd-musicnn.onnx").read_bytes()
    assert install_models(BUILT, dest) == []
    (dest / "mtt-musicnn.onnx").write_bytes(b"stale")
    assert install_models(BUILT, dest) == ["mtt-musicnn.onnx"]
    assert not [p for p in dest.iterdir() if p.name.endswith(".partial")]


def test_install_refuses_a_folder_without_built_models(tmp_path):
    with pytest.raises(ModelNotBuilt, match=f"No models in {tmp_path}"):
        install_models(tmp_path, tmp_path / "dest")


def test_check_reads_the_services_folder_and_says_how_to_fill_it(data_dir, capsys):
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert f"No models in {data_dir / 'models'}" in err and "scripts/setup.sh" in err
    assert main(["install", str(BUILT)]) == 0
    assert f"copied msd-musicnn.onnx, mtt-musicnn.onnx, manifest.json to {data_dir / 'models'}" in capsys.readouterr().out
    assert main(["check"]) == 0
    assert f"ok: msd-musicnn in {data_dir / 'models'}" in capsys.readouterr().out
    assert main(["install", str(BUILT)]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_models_dir_setting_redirects_install_and_check(data_dir, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("AUDIOMUSE_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert main(["install", str(BUILT)]) == 0
    assert (tmp_path / "elsewhere" / "manifest.json").exists() and not (data_dir / "models").exists()


def test_usage_on_unknown_subcommands(capsys):
    assert main(["build"]) == 2 and "install BUILT_DIR" in capsys.readouterr().err

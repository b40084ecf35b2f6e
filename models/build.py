"""Convert the pre-trained MusiCNN checkpoints shipped in the ``musicnn==0.1.0`` wheel to ONNX, once.

Runs in a build-only environment (tensorflow-cpu, tf2onnx, musicnn installed with --no-deps); the
service itself needs only onnxruntime. For each of MSD_musicnn and MTT_musicnn:

1. parse the checkpoint's MetaGraphDef and drop every ``_output_shapes`` attribute (one gradient node
   carries an inconsistent one that makes ``import_meta_graph`` fail), import it with the training flag
   ``model/Placeholder_2`` mapped to a constant False, and restore the weights;
2. freeze the inference graph down to the embedding (``model/dense/BiasAdd``, 200 values before the
   activation, the layer AudioMuse-AI uses) and the 50 sigmoid tag scores;
3. convert with tf2onnx (dynamic batch axis), run TF and onnxruntime on the same input and refuse the
   result when they differ by more than ``--tolerance``;
4. write ``<out>/<name>.onnx`` and ``<out>/manifest.json`` (labels, tensor names, sha256, versions).

Usage: python models/build.py [--out models] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

N_FRAMES, N_MELS = 187, 96
INPUT = "model/Placeholder:0"
TRAINING_FLAG = "model/Placeholder_2:0"
OUTPUTS = {"embedding": "model/dense/BiasAdd:0", "tags": "model/Sigmoid:0"}
MODELS = {"msd-musicnn": ("MSD_musicnn", "MSD_LABELS"), "mtt-musicnn": ("MTT_musicnn", "MTT_LABELS")}
OPSET = 17


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def freeze_checkpoint(checkpoint_dir: Path):
    """Return (frozen GraphDef, TF outputs on ``probe``) for one musicnn checkpoint folder."""
    import tensorflow as tf
    from tensorflow.core.protobuf import meta_graph_pb2

    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString((checkpoint_dir / ".meta").read_bytes())
    for node in meta.graph_def.node:
        node.attr.pop("_output_shapes", None)

    graph = tf.Graph()
    with graph.as_default():
        is_training = tf.constant(False, dtype=tf.bool, name="inference_flag")
        saver = tf.compat.v1.train.import_meta_graph(meta, clear_devices=True, input_map={TRAINING_FLAG: is_training})
        sess = tf.compat.v1.Session(graph=graph)
        saver.restore(sess, str(checkpoint_dir) + "/")
        out_nodes = [name.split(":")[0] for name in OUTPUTS.values()]
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), out_nodes)
        frozen = tf.compat.v1.graph_util.extract_sub_graph(frozen, out_nodes)
    return frozen, sess, graph


def tf_outputs(sess, graph, probe: np.ndarray) -> list[np.ndarray]:
    fetches = [graph.get_tensor_by_name(name) for name in OUTPUTS.values()]
    return sess.run(fetches, feed_dict={graph.get_tensor_by_name(INPUT): probe})


def convert(frozen, out_path: Path) -> None:
    import tf2onnx

    model_proto, _ = tf2onnx.convert.from_graph_def(
        frozen, input_names=[INPUT], output_names=list(OUTPUTS.values()), opset=OPSET, output_path=str(out_path)
    )
    # tf2onnx keeps the batch axis symbolic ("unk__N"); name it so tools show "batch".
    import onnx

    model = onnx.load(str(out_path))
    for value in list(model.graph.input) + list(model.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_value")
        dim.dim_param = "batch"
    onnx.save(model, str(out_path))


def onnx_outputs(path: Path, probe: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(list(OUTPUTS.values()), {INPUT: probe})


def make_probe(rng: np.random.Generator, n: int = 4) -> np.ndarray:
    """Log-mel-like input: values spread over the range log10(1 + 10000 x) takes on real music."""
    return rng.uniform(0.0, 4.0, size=(n, N_FRAMES, N_MELS)).astype(np.float32)


def build(out_dir: Path, tolerance: float, force: bool) -> dict:
    import musicnn
    from musicnn import configuration

    package_dir = Path(musicnn.__file__).parent
    manifest_path = out_dir / "manifest.json"
    wheel_version = importlib.metadata.version("musicnn")
    if manifest_path.exists() and not force:
        manifest = json.loads(manifest_path.read_text())
        if all((out_dir / m["file"]).exists() and sha256(out_dir / m["file"]) == m["sha256"] for m in manifest["models"].values()):
            print(f"models already built in {out_dir} (use --force to rebuild)")
            return manifest
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20190801)
    manifest = {
        "source": {"package": "musicnn", "version": wheel_version},
        "built_with": {p: importlib.metadata.version(p) for p in ("tensorflow-cpu", "tf2onnx", "onnx", "onnxruntime") if _installed(p)},
        "input": {"name": INPUT, "shape": ["batch", N_FRAMES, N_MELS], "dtype": "float32"},
        "outputs": OUTPUTS,
        "opset": OPSET,
        "models": {},
    }
    for name, (folder, labels_attr) in MODELS.items():
        print(f"{name}: freezing {folder} ...", flush=True)
        frozen, sess, graph = freeze_checkpoint(package_dir / folder)
        path = out_dir / f"{name}.onnx"
        convert(frozen, path)
        probe = make_probe(rng)
        expected = tf_outputs(sess, graph, probe)
        got = onnx_outputs(path, probe)
        sess.close()
        diffs = {k: float(np.max(np.abs(e - g))) for k, e, g in zip(OUTPUTS, expected, got)}
        print(f"{name}: max |TF - ONNX| embedding {diffs['embedding']:.2e}, tags {diffs['tags']:.2e} "
              f"({path.stat().st_size / 1e6:.1f} MB)", flush=True)
        if max(diffs.values()) > tolerance:
            path.unlink()
            raise SystemExit(f"{name}: ONNX differs from TensorFlow by more than {tolerance:g}; not writing it.")
        manifest["models"][name] = {
            "file": path.name,
            "sha256": sha256(path),
            # the ONNX bytes differ from one conversion to the next; the weights they come from do not
            "checkpoint_sha256": sha256(package_dir / folder / ".data-00000-of-00001"),
            "checkpoint": folder,
            "labels": list(getattr(configuration, labels_attr)),
            "max_abs_diff": diffs,
        }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {manifest_path}")
    return manifest


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    build(args.out, args.tolerance, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The one seam to the neural networks: ONNX sessions, their labels and the model version string.

Loaded once per worker (``load_models``) and passed to the pure analysis functions. Two sources of mood
scores are supported: Essentia/AudioMuse-AI mood heads (``mood_*-msd-musicnn-1.onnx``) when the user has
dropped them into the models folder, otherwise a documented mapping from MSD/MTT tag scores (moods.py).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audiomuse_ray.errors import ModelNotBuilt

MSD, MTT = "msd-musicnn", "mtt-musicnn"
# Essentia's heads: file name -> (mood, column of the 2-way softmax that means "yes").
ESSENTIA_HEADS = {
    "danceability-msd-musicnn-1.onnx": ("danceable", 0),
    "mood_aggressive-msd-musicnn-1.onnx": ("aggressive", 0),
    "mood_happy-msd-musicnn-1.onnx": ("happy", 0),
    "mood_party-msd-musicnn-1.onnx": ("party", 1),
    "mood_relaxed-msd-musicnn-1.onnx": ("relaxed", 1),
    "mood_sad-msd-musicnn-1.onnx": ("sad", 1),
}
# Patches per ONNX call. On CPU the first convolutions' activations (~14 MB per patch) fall out of cache in
# larger batches: measured here (1 thread) 26 ms/patch at 1, 28 at 4, 36 at 16, 62 at 32, 121 at 200.
CPU_PATCHES_PER_RUN = 1
GPU_PATCHES_PER_RUN = 64
BUILD_HINT = ("Fill it with scripts/setup.sh (converts them from the musicnn wheel with models/build.py and copies "
              "them to DATA_DIR/models, or to AUDIOMUSE_MODELS_DIR when set), or copy models built elsewhere there "
              "with: python -m audiomuse_ray.analysis.models install BUILT_DIR [MODELS_DIR].")


@dataclass(frozen=True)
class Manifest:
    models_dir: Path
    input_name: str
    embedding_output: str
    tags_output: str
    files: dict[str, str]
    labels: dict[str, list[str]]
    sha256: dict[str, str]
    weights_sha256: dict[str, str]  # of the source checkpoint: stable across reconversions


def load_manifest(models_dir: str | Path) -> Manifest:
    models_dir = Path(models_dir)
    path = models_dir / "manifest.json"
    if not path.exists():
        raise ModelNotBuilt(f"No models in {models_dir} (manifest.json missing). {BUILD_HINT}")
    data = json.loads(path.read_text())
    models = data["models"]
    for name, m in models.items():
        if not (models_dir / m["file"]).exists():
            raise ModelNotBuilt(f"{models_dir / m['file']} is missing. {BUILD_HINT}")
    return Manifest(
        models_dir=models_dir,
        input_name=data["input"]["name"],
        embedding_output=data["outputs"]["embedding"],
        tags_output=data["outputs"]["tags"],
        files={k: m["file"] for k, m in models.items()},
        labels={k: list(m["labels"]) for k, m in models.items()},
        sha256={k: m["sha256"] for k, m in models.items()},
        weights_sha256={k: m.get("checkpoint_sha256", m["sha256"]) for k, m in models.items()},
    )


@dataclass
class MusicnnModels:
    """Loaded ONNX sessions. ``predict`` runs one batch of patches through every network at once."""

    manifest: Manifest
    sessions: dict[str, object]
    mood_heads: dict[str, tuple[object, int]] = field(default_factory=dict)
    device: str = "cpu"
    patches_per_run: int = 1  # see CPU_PATCHES_PER_RUN

    @property
    def msd_labels(self) -> list[str]:
        return self.manifest.labels[MSD]

    @property
    def mtt_labels(self) -> list[str]:
        return self.manifest.labels.get(MTT, [])

    @property
    def mood_source(self) -> str:
        return "essentia-heads" if self.mood_heads else "tag-mapping-v1"

    @property
    def version(self) -> str:
        """Stored with every analysis; a change makes the next run re-analyse the library."""
        return model_version(self.manifest, bool(self.mood_heads), MTT in self.sessions)

    def predict(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        """``patches`` (n, 187, 96) float32 -> {"embedding": (n, 200), "msd": (n, 50), "mtt": (n, 50), moods...}.

        Runs ``patches_per_run`` patches per session call and concatenates the outputs.
        """
        patches = np.ascontiguousarray(patches, dtype=np.float32)
        step = max(1, self.patches_per_run)
        chunks = [self._predict_chunk(patches[i:i + step]) for i in range(0, max(1, patches.shape[0]), step)]
        return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}

    def _predict_chunk(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        feed = {self.manifest.input_name: patches}
        outputs = [self.manifest.embedding_output, self.manifest.tags_output]
        embedding, msd = self.sessions[MSD].run(outputs, feed)
        out = {"embedding": embedding, "msd": msd}
        if MTT in self.sessions:
            out["mtt"] = self.sessions[MTT].run([self.manifest.tags_output], feed)[0]
        for mood, (session, column) in self.mood_heads.items():
            name = session.get_inputs()[0].name
            probs = session.run(None, {name: embedding.astype(np.float32)})[0]
            out["mood:" + mood] = probs[:, column]
        return out


def has_mood_heads(models_dir: str | Path) -> bool:
    return all((Path(models_dir) / f).exists() for f in ESSENTIA_HEADS)


def model_version(manifest: Manifest, mood_heads: bool, mtt: bool = False) -> str:
    """``musicnn-onnx-<digest of the weights>+<mood source>``: what a stored analysis was made with. The digest
    is of the source checkpoint, so converting the models again does not trigger a re-analysis."""
    digest = hashlib.sha1(manifest.weights_sha256[MSD].encode()).hexdigest()[:10]
    return f"musicnn-onnx-{digest}+{'essentia-heads' if mood_heads else 'tag-mapping-v1'}{'+mtt' if mtt else ''}"


def expected_version(models_dir: str | Path) -> str:
    """The version a default ``load_models(models_dir)`` will report, without opening any session."""
    return model_version(load_manifest(models_dir), has_mood_heads(models_dir))


def load_models(models_dir: str | Path, *, threads: int = 1, use_gpu: bool = False,
                include_mtt: bool = False) -> MusicnnModels:
    """Open the ONNX sessions once; ``threads`` intra-op threads each (match the worker's CPUs).

    Only the MSD network runs per track by default; ``include_mtt`` adds the MagnaTagATune tagger
    (another full network pass per patch) for callers that want its 50 tags too.
    """
    import onnxruntime as ort

    manifest = load_manifest(models_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    if use_gpu and "CUDAExecutionProvider" in ort.get_available_providers():
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]

    def session(path: Path):
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)

    wanted = [MSD] + ([MTT] if include_mtt and MTT in manifest.files else [])
    sessions = {name: session(manifest.models_dir / manifest.files[name]) for name in wanted}
    heads = {}
    if has_mood_heads(manifest.models_dir):  # a partial set would mix two mood scales: all or none
        heads = {mood: (session(manifest.models_dir / f), col) for f, (mood, col) in ESSENTIA_HEADS.items()}
    device = "cuda" if providers[0].startswith("CUDA") else "cpu"
    return MusicnnModels(manifest=manifest, sessions=sessions, mood_heads=heads, device=device,
                         patches_per_run=GPU_PATCHES_PER_RUN if device == "cuda" else CPU_PATCHES_PER_RUN)


def describe_models(models_dir: str | Path) -> str:
    models = load_models(models_dir)
    names = ", ".join(sorted(models.sessions))
    return f"{names} in {models.manifest.models_dir} (version {models.version})"


USAGE = """usage: python -m audiomuse_ray.analysis.models check [MODELS_DIR]
       python -m audiomuse_ray.analysis.models install BUILT_DIR [MODELS_DIR]
MODELS_DIR defaults to the folder the service reads: AUDIOMUSE_MODELS_DIR, else DATA_DIR/models."""


def default_models_dir() -> Path:
    """The folder the service reads models from with the current AUDIOMUSE_* environment."""
    from audiomuse_ray.settings import Settings

    return Path(Settings.load().models_dir)


def install_models(src: str | Path, dest: str | Path) -> list[str]:
    """Copy built models (``models/build.py --out SRC``) into ``dest``: the manifest, the files it names and
    any Essentia mood heads beside them. Returns the names copied; none when ``dest`` already holds the same
    bytes, so set-up can call it on every run. Files are renamed into place and the manifest comes last, so a
    worker starting meanwhile never finds a manifest naming a half-written model."""
    import filecmp
    import os
    import shutil

    src, dest = Path(src), Path(dest)
    manifest = load_manifest(src)
    names = [*manifest.files.values(), *(f for f in ESSENTIA_HEADS if (src / f).exists()), "manifest.json"]
    dest.mkdir(parents=True, exist_ok=True)
    if dest.resolve() == src.resolve():
        return []
    copied = []
    for name in names:
        target = dest / name
        if target.exists() and filecmp.cmp(src / name, target, shallow=False):
            continue
        partial = dest / f".{name}.partial"
        shutil.copyfile(src / name, partial)
        os.replace(partial, target)
        copied.append(name)
    for key, file in manifest.files.items():
        if copied and _sha256(dest / file) != manifest.sha256[key]:
            raise ModelNotBuilt(f"{dest / file} does not match its sha256 in {src / 'manifest.json'} after copying; "
                                f"is {dest} full or shared with another writer? {BUILD_HINT}")
    return copied


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(models_dir: Path) -> str:
    """Load the models in ``models_dir`` and run one patch through them; returns a line for the user."""
    models = load_models(models_dir)
    out = models.predict(np.zeros((1, 187, 96), dtype=np.float32))
    return f"ok: {describe_models(models_dir)}; embedding {out['embedding'].shape}, tags {out['msd'].shape}"


def main(argv: list[str]) -> int:
    """``check [DIR]``: exit 0 when the models load and run. ``install SRC [DIR]``: copy built models into
    the service's folder (then check them there). DIR defaults to the service's models folder."""
    from audiomuse_ray.errors import ConfigurationError

    if not argv or (argv[0], len(argv)) not in {("check", 1), ("check", 2), ("install", 2), ("install", 3)}:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        if argv[0] == "check":
            print(_check(Path(argv[1]) if len(argv) > 1 else default_models_dir()))
            return 0
        dest = Path(argv[2]) if len(argv) > 2 else default_models_dir()
        copied = install_models(argv[1], dest)
        if not copied:
            print(f"models: {dest} is up to date")
            return 0
        print(f"models: copied {', '.join(copied)} to {dest}")
        print(_check(dest))
        return 0
    except (ModelNotBuilt, ConfigurationError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

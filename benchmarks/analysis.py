"""Analysis speed, measured in one run against a naive baseline and the network-only floor; or, with
--memory, whether the workers' memory stays flat over a long run.

    .venv/bin/python benchmarks/analysis.py [--corpus DIR] [--tracks N] [--max-seconds 600]
    .venv/bin/python benchmarks/analysis.py --memory [--corpus DIR] [--min-tracks 300] [--workers 2]

(a) naive: the pipeline as the seed describes it, in a fresh process: librosa.load(sr=16000) with its
    default resampler, librosa.feature.melspectrogram, one onnxruntime call per patch, file after file;
(b) ours: run_analysis through a local Ray with 1 and with 2 workers (fresh database each); its
    tracks per hour leave out the index and map rebuild that follows the analysis (printed apart);
(c) floor: onnxruntime alone (same session settings as ours) on the same precomputed patches.

Prints CPU seconds per minute of analysed audio, tracks per hour (wall clock), and the cosine similarity
between (a)'s and (b)'s embeddings. Uses the full-length corpus (``make_corpus.sh OUT`` without --clip),
built into ~/.cache/audiomuse-ray/corpus-full on first use; tracks longer than --max-seconds are left out
so that both pipelines hear the whole of every track.

--memory: the library (default: the 30 s clip corpus the tests use) repeated through symlinks until it
holds --min-tracks tracks, each repeat in folders of its own so that album and item ids differ; one
run_analysis with --workers workers; then each worker's resident memory (``rss_mb`` of its album task
records) after its first album and after its last, and the growth between them (target < 10 %).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NAIVE = r'''
import json, sys, time, resource
import numpy as np, librosa, onnxruntime as ort
files, model, inp, out = json.loads(sys.argv[1])
opts = ort.SessionOptions(); opts.intra_op_num_threads = 1; opts.inter_op_num_threads = 1
sess = ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
t0 = time.monotonic(); result = {}
for f in files:
    y, sr = librosa.load(f, sr=16000)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=256, n_mels=96, center=False,
                                         power=2.0, htk=False, norm="slaney").T
    spec = np.log10(1 + 10000 * mel).astype(np.float32)
    embs = [sess.run([out], {inp: spec[s:s + 187][None]})[0][0] for s in range(0, spec.shape[0] - 187 + 1, 187)]
    result[f] = np.mean(embs, axis=0).tolist()
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.monotonic() - t0, "cpu": ru.ru_utime + ru.ru_stime, "emb": result}))
'''


def full_corpus() -> Path:
    out = Path.home() / ".cache" / "audiomuse-ray" / "corpus-full"
    if not (out / "manifest.tsv").exists():
        script = next(p for p in (REPO / "shared", REPO.parent / "shared") if (p / "corpus").exists()) / "corpus" / "make_corpus.sh"
        print(f"building the full-length corpus into {out} (several minutes, once)", flush=True)
        subprocess.run(["bash", str(script), str(out)], check=True)
    return out / "library"


def clip_corpus() -> Path:
    """The corpus of 30 s clips (the tests' ``corpus`` fixture builds the same one)."""
    out = Path.home() / ".cache" / "audiomuse-ray" / "corpus-clip30"
    if not (out / "manifest.tsv").exists():
        script = next(p for p in (REPO / "shared", REPO.parent / "shared") if (p / "corpus").exists()) / "corpus" / "make_corpus.sh"
        print(f"building the clip corpus into {out} (a minute or two, once)", flush=True)
        subprocess.run(["bash", str(script), str(out), "--clip", "30"], check=True)
    return out / "library"


def pick_tracks(library: Path, n: int, max_seconds: float) -> list[tuple[Path, float]]:
    import soundfile as sf
    from audiomuse_ray.providers.local import AUDIO_EXTENSIONS, read_tags

    files = sorted(p for p in library.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    picked = []
    for f in files:
        d = read_tags(f).duration
        if d is None:
            try:
                d = sf.info(str(f)).duration
            except Exception:
                continue
        if 30 <= d <= max_seconds:
            picked.append((f, d))
    step = max(1, len(picked) // n) if n else 1
    return picked[::step][:n] if n else picked


def run_naive(files: list[Path], models_dir: Path) -> dict:
    manifest = json.loads((models_dir / "manifest.json").read_text())
    args = json.dumps([[str(f) for f in files], str(models_dir / "msd-musicnn.onnx"), manifest["input"]["name"],
                       manifest["outputs"]["embedding"]])
    t0 = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", NAIVE, args], capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["wall_process"] = time.monotonic() - t0  # includes interpreter + librosa start-up
    data["cpu_process"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return data


def run_ours(files: list[Path], workers: int, models_dir: Path) -> dict:
    import ray
    from audiomuse_ray.analysis.run import run_analysis
    from audiomuse_ray.settings import Settings
    from audiomuse_ray.store import open_store
    from audiomuse_ray.store.tracks import get_tracks

    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        for i, f in enumerate(files):  # one album folder per track: the pool schedules freely
            (library / f"{i:03d}").mkdir(parents=True)
            os.symlink(f, library / f"{i:03d}" / f.name)
        settings = Settings.load({}, data_dir=str(Path(tmp) / "data"), music_dir=str(library), models_dir=str(models_dir))
        ray.init(address="local", num_cpus=workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        try:
            store = open_store(settings.database_url)
            t0 = time.monotonic()
            summary = run_analysis(settings, workers=workers, store=store)
            wall = time.monotonic() - t0 - summary.index_seconds  # the naive pipeline builds no index
            emb = {str(Path(t.path_or_url).resolve()): t.embedding for t in get_tracks(store, with_embeddings=True)}
        finally:
            ray.shutdown()
    assert summary.analysed == len(files), summary
    return {"wall": wall, "cpu": summary.worker_cpu_seconds, "emb": emb, "index_s": summary.index_seconds}


def repeat_library(library: Path, out: Path, min_tracks: int) -> tuple[int, int]:
    """Symlink ``library`` into ``out/rNN/...`` as often as it takes to reach ``min_tracks`` files: every
    repeat is a new set of album folders, so the provider sees new albums and new item ids. Returns
    (tracks, repeats)."""
    from audiomuse_ray.providers.local import AUDIO_EXTENSIONS

    files = sorted(p for p in library.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise SystemExit(f"no audio files under {library}")
    repeats = max(1, math.ceil(min_tracks / len(files)))
    for r in range(repeats):
        for f in files:
            link = out / f"r{r:02d}" / f.relative_to(library)
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(f.resolve(), link)
    return len(files) * repeats, repeats


def run_memory(library: Path, min_tracks: int, workers: int, models_dir: Path) -> dict:
    """One analysis run over the repeated library; each worker's RSS after its first and its last album,
    read from the album task records the driver writes (``worker``, ``rss_mb``)."""
    import ray
    from audiomuse_ray.analysis.run import run_analysis
    from audiomuse_ray.settings import Settings
    from audiomuse_ray.store import open_store
    from audiomuse_ray.store import task_rows as task_store

    with tempfile.TemporaryDirectory() as tmp:
        music = Path(tmp) / "library"
        n_tracks, repeats = repeat_library(library, music, min_tracks)
        print(f"memory: {n_tracks} tracks ({repeats} repeats of {library}), {workers} workers", flush=True)
        settings = Settings.load({}, data_dir=str(Path(tmp) / "data"), music_dir=str(music), models_dir=str(models_dir))
        ray.init(address="local", num_cpus=workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        try:
            store = open_store(settings.database_url)
            t0 = time.monotonic()
            summary = run_analysis(settings, workers=workers, store=store)
            wall = time.monotonic() - t0
            albums = [c for c in task_store.children(store, summary.task_id) if c.status == task_store.SUCCESS]
            store.dispose()
        finally:
            ray.shutdown()
    if any("rss_mb" not in c.details for c in albums):
        raise SystemExit("the album task records carry no 'rss_mb': analysis/run.py must store AlbumResult.rss_bytes")
    by_worker: dict[str, list] = {}
    for c in sorted(albums, key=lambda c: c.updated_at):  # in the order the albums finished
        by_worker.setdefault(c.details["worker"], []).append(c)
    per_worker = {}
    for name, done in by_worker.items():
        first, last = done[0].details["rss_mb"], done[-1].details["rss_mb"]
        per_worker[name] = {"albums": len(done), "tracks": sum(c.details["analysed"] + c.details["failed"] for c in done),
                            "first_mb": first, "end_mb": last, "max_mb": max(c.details["rss_mb"] for c in done),
                            "growth": (last - first) / first if first else float("nan")}
    return {"tracks": n_tracks, "analysed": summary.analysed, "failed": summary.failed, "albums": len(albums),
            "wall_s": wall, "workers": per_worker}


def print_memory(mem: dict) -> None:
    print(f"\n{mem['analysed']} of {mem['tracks']} tracks analysed ({mem['failed']} failed) in {mem['albums']} albums, "
          f"{mem['wall_s']:.0f} s")
    print(f"{'worker':<20} {'albums':>6} {'tracks':>6} {'RSS after 1st album':>20} {'at the end':>11} {'max':>9} {'growth':>8}")
    for name, w in mem["workers"].items():
        print(f"{name:<20} {w['albums']:>6} {w['tracks']:>6} {w['first_mb']:>17.1f} MB {w['end_mb']:>8.1f} MB "
              f"{w['max_mb']:>6.1f} MB {w['growth']:>+7.1%}")
    worst = max(w["growth"] for w in mem["workers"].values())
    print(f"largest growth {worst:+.1%}   (target < 10 %)")


def run_floor(files: list[Path], models_dir: Path) -> dict:
    from audiomuse_ray.analysis import audio
    from audiomuse_ray.analysis.models import load_models

    models = load_models(models_dir, threads=1)
    batches = [audio.patches(audio.log_mel(audio.decode(f).samples)) for f in files]
    t0, c0 = time.monotonic(), time.process_time()
    for b in batches:
        models.predict(b)
    return {"wall": time.monotonic() - t0, "cpu": time.process_time() - c0, "patches": sum(len(b) for b in batches)}


def ffmpeg_decode_only(path: Path) -> None:
    """FFmpeg's decoder with nothing done to its output: what decoding costs before any of our code."""
    import av

    with av.open(str(path)) as container:
        for _frame in container.decode(container.streams.audio[0]):
            pass


def run_stages(files: list[Path], models_dir: Path) -> dict[str, float]:
    """CPU seconds per stage of ours, in this process, one thread; plus FFmpeg's bare decode for scale."""
    from audiomuse_ray.analysis import audio, features
    from audiomuse_ray.analysis.models import load_models
    from audiomuse_ray.analysis.track import prepare_samples

    models = load_models(models_dir, threads=1)
    cpu = dict.fromkeys(("ffmpeg decode alone", "decode + resample", "log-mel + patches", "network",
                         "key", "tempo + energy"), 0.0)

    def timed(stage, fn, *args):
        c0 = time.process_time()
        out = fn(*args)
        cpu[stage] += time.process_time() - c0
        return out

    for f in files:
        timed("ffmpeg decode alone", ffmpeg_decode_only, f)
        samples = prepare_samples(timed("decode + resample", audio.decode, f).samples, f.name)
        spec = timed("log-mel + patches", audio.log_mel, samples)
        batch = timed("log-mel + patches", audio.patches, spec)
        timed("network", models.predict, batch)
        timed("key", features.estimate_key, samples)
        timed("tempo + energy", lambda: (features.tempo(spec), features.energy(samples)))
    return cpu


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="a library folder (default: the full-length corpus; the clips with --memory)")
    parser.add_argument("--tracks", type=int, default=0, help="use N tracks spread over the library (0 = all)")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--memory", action="store_true",
                        help="measure the workers' memory over a long run instead of the speed (default corpus: clips)")
    parser.add_argument("--min-tracks", type=int, default=300, help="--memory: repeat the library up to this many tracks")
    parser.add_argument("--workers", type=int, default=2, help="--memory: analysis workers")
    args = parser.parse_args()

    if args.memory:
        mem = run_memory(args.corpus or clip_corpus(), args.min_tracks, args.workers, args.models_dir)
        print_memory(mem)
        if args.json:
            args.json.write_text(json.dumps(mem, indent=2))
        return 0

    library = args.corpus or full_corpus()
    tracks = pick_tracks(library, args.tracks, args.max_seconds)
    files = [f for f, _ in tracks]
    minutes = sum(d for _, d in tracks) / 60
    print(f"{len(files)} tracks, {minutes:.1f} minutes of audio, {os.cpu_count()} CPUs", flush=True)

    stages = run_stages(files, args.models_dir)
    print("stages done", flush=True)
    floor = run_floor(files, args.models_dir)
    print(f"(c) floor done: {floor['patches']} patches", flush=True)
    ours1 = run_ours(files, 1, args.models_dir)
    print("(b) ours, 1 worker done", flush=True)
    ours2 = run_ours(files, 2, args.models_dir)
    print("(b) ours, 2 workers done", flush=True)
    naive = run_naive(files, args.models_dir)
    print("(a) naive done", flush=True)

    hours = lambda wall: len(files) / (wall / 3600)  # noqa: E731
    rows = [
        ("(a) naive, 1 process", naive["cpu_process"] / minutes, hours(naive["wall_process"])),
        ("(b) ours, 1 worker", ours1["cpu"] / minutes, hours(ours1["wall"])),
        ("(b) ours, 2 workers", ours2["cpu"] / minutes, hours(ours2["wall"])),
        ("(c) floor: onnxruntime only", floor["cpu"] / minutes, hours(floor["wall"])),
    ]
    sims = [cosine(np.asarray(naive["emb"][str(f)]), ours1["emb"][str(f.resolve())]) for f in files]
    print(f"\nours: rebuilding the index and map after the analysis took {ours1['index_s']:.1f} s (1 worker, "
          f"first in this process) and {ours2['index_s']:.1f} s (2 workers); not counted in tracks / hour")
    print(f"\n{'pipeline':<30} {'CPU s / audio min':>18} {'tracks / hour':>14}")
    for name, cpu, tph in rows:
        print(f"{name:<30} {cpu:>18.3f} {tph:>14.0f}")
    print(f"\nwhere ours spends CPU, one process ({'CPU s / audio min':>17}, share of the network)")
    for stage, seconds in stages.items():
        print(f"  {stage:<28} {seconds / minutes:>8.3f}  {seconds / stages['network']:>6.1%}")
    ratios = {
        "ours_cpu_over_floor": rows[1][1] / rows[3][1],
        "two_workers_over_one": rows[2][2] / rows[1][2],
        "ours2_over_naive_throughput": rows[2][2] / rows[0][2],
        "cosine_min": min(sims),
        "cosine_mean": float(np.mean(sims)),
    }
    print(f"\nours CPU per minute / floor      {ratios['ours_cpu_over_floor']:.3f}   (target <= 1.15)")
    print(f"2 workers / 1 worker throughput  {ratios['two_workers_over_one']:.2f}    (target >= 1.8)")
    print(f"ours (2 workers) / naive         {ratios['ours2_over_naive_throughput']:.2f}    (target >= 2)")
    print(f"cosine(naive, ours) min / mean   {ratios['cosine_min']:.5f} / {ratios['cosine_mean']:.5f}   (target >= 0.999)")
    if args.json:
        args.json.write_text(json.dumps({"tracks": len(files), "minutes": minutes,
                                         "rows": [{"name": n, "cpu_s_per_min": c, "tracks_per_hour": t} for n, c, t in rows],
                                         "stages_cpu_s_per_min": {k: v / minutes for k, v in stages.items()},
                                         **ratios}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

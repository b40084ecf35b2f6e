"""Clustering search speed: runs per second for a plain single-process loop, and for the Ray population
with 1 and 2 explorers, on a 10k-track synthetic score set and on the analysed corpus, in one run.
Saves a plot of best score against runs (benchmarks/out/clustering.png).

    .venv/bin/python benchmarks/clustering.py [--runs 200] [--corpus-db sqlite:////path/audiomuse.db]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audiomuse_ray.clustering.data import build_data  # noqa: E402
from audiomuse_ray.clustering.evolution import SearchConfig  # noqa: E402
from audiomuse_ray.clustering.population import search, serial_search  # noqa: E402
from audiomuse_ray.store.tracks import TrackRow  # noqa: E402

LABELS = ["rock", "pop", "alternative", "indie", "electronic", "jazz", "metal", "ambient", "dance", "folk"] + [
    f"tag{i}" for i in range(40)]


def synthetic(n: int, seed: int = 0):
    """``n`` tracks in 30 latent styles: tags, tempo and moods drawn around each style's centre."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 0.4, (30, 50))
    centres[np.arange(30), rng.integers(0, 10, 30)] += 0.5
    style = rng.integers(0, 30, n)
    rows = []
    for i in range(n):
        tags = np.clip(centres[style[i]] + rng.normal(0, 0.05, 50), 0, 1).astype(np.float32)
        rows.append(TrackRow(item_id=f"t{i}", title=f"T{i}", author=f"A{i % 500}", album="", tempo=float(60 + 4 * style[i]),
                             energy=0.05, other_features={"danceable": float(tags[8]), "relaxed": float(tags[7])},
                             embedding=np.zeros(200, np.float32), tags=tags))
    return build_data(rows, LABELS)


def measure(data, cfg: SearchConfig, label: str) -> dict:
    import ray

    curve: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    serial_search(data, cfg, seed=1, on_run=lambda i, best: curve.append((i, best.score)))
    serial_rps = cfg.runs / (time.perf_counter() - t0)
    out = {"label": label, "serial": serial_rps, "curve": curve}
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        for n in (1, 2):
            search(data, SearchConfig(**{**cfg.__dict__, "runs": 4}), explorers=n, seed=1)  # actors warm
            t0 = time.perf_counter()
            best, status, _ = search(data, cfg, explorers=n, seed=1)
            out[f"ray{n}"] = status.runs_done / (time.perf_counter() - t0)
            out[f"best{n}"] = best.score
    finally:
        ray.shutdown()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--corpus-db", default=None, help="database of an analysed library to measure too")
    args = parser.parse_args()
    results = []
    cfg = SearchConfig(runs=args.runs, ranges={"num_clusters": (20, 60)}, min_songs_per_genre=100)
    results.append(measure(synthetic(args.tracks), cfg, f"synthetic {args.tracks}"))
    if args.corpus_db:
        from audiomuse_ray.analysis.models import load_manifest
        from audiomuse_ray.clustering.data import load_data
        from audiomuse_ray.store import open_store

        data = load_data(open_store(args.corpus_db), load_manifest(REPO / "models").labels["msd-musicnn"])
        results.append(measure(data, SearchConfig(runs=args.runs, ranges={"num_clusters": (3, 12)}, min_songs_per_genre=10),
                               f"corpus {data.size}"))
    print(f"\n{'data':<18} {'serial runs/s':>14} {'1 explorer':>11} {'2 explorers':>12} {'2 expl / serial':>16}")
    for r in results:
        print(f"{r['label']:<18} {r['serial']:>14.2f} {r['ray1']:>11.2f} {r['ray2']:>12.2f} {r['ray2'] / r['serial']:>16.2f}"
              f"   (best score serial {r['curve'][-1][1]:.3f}, 1 expl {r['best1']:.3f}, 2 expl {r['best2']:.3f})")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = REPO / "benchmarks" / "out"
        out.mkdir(parents=True, exist_ok=True)
        for r in results:
            xs, ys = zip(*r["curve"])
            plt.plot(xs, ys, label=r["label"])
        plt.xlabel("runs")
        plt.ylabel("best score so far")
        plt.legend()
        plt.savefig(out / "clustering.png", dpi=100)
        print(f"plot: {out / 'clustering.png'}")
    except ImportError:
        print("(matplotlib not installed: no plot)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Compile the numba-jitted code the service runs, once, into ``NUMBA_CACHE_DIR`` (the Docker image does
this at build time). UMAP and pynndescent are numba code: compiled cold, the first map costs about 20 s more
(measured in the image: 39 s cold for a 100-point map). ``similarity.projection`` turns numba's cache on for
umap's functions too, so every later process loads them instead of compiling. Numba keeps what it compiled
in a cache next to the package, which a container's non-root user cannot write to.

Also runs the real models once on synthetic audio, so an image whose models or ONNX runtime are broken
fails its build instead of its first analysis.

    python -m audiomuse_ray.commands.warmup [MODELS_DIR]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from audiomuse_ray.analysis.constants import SAMPLE_RATE_HZ

# UMAP finds neighbours exactly below 4,096 points and with pynndescent from there. Only the small path is
# warmed: it is what a small library pays on every analysis (about 20 s of 45 s on the 72-track corpus);
# warming pynndescent too would add a minute to every image build to save about 16 s on analyses that
# take hours anyway.
MAP_SIZES = (200,)


def synthetic_track(seconds: float = 30.0, seed: int = 0) -> np.ndarray:
    """A tone sweep over a drum-like pulse at 120 BPM with some noise, 16 kHz mono float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    sweep = 0.3 * np.sin(2 * np.pi * (220 + 40 * t) * t)
    pulse = 0.5 * np.exp(-((t % 0.5) * 30)) * np.sin(2 * np.pi * 60 * t)
    return (sweep + pulse + 0.05 * rng.standard_normal(t.shape)).astype(np.float32)


def main(argv: list[str]) -> int:
    from audiomuse_ray.analysis.models import default_models_dir, load_models
    from audiomuse_ray.analysis.track import analyze_samples
    from audiomuse_ray.similarity.projection import project_umap

    start = time.monotonic()
    models = load_models(argv[0] if argv else default_models_dir())
    result = analyze_samples(synthetic_track(), models, name="warm-up")
    print(f"warm-up: analysis of 30 s of synthetic audio (tempo {result.tempo:.0f}) "
          f"in {time.monotonic() - start:.1f} s")
    rng = np.random.default_rng(0)
    for n in MAP_SIZES:
        t0 = time.monotonic()
        coords = project_umap(rng.standard_normal((n, 200)).astype(np.float32))
        assert coords.shape == (n, 2)
        print(f"warm-up: {n}-point map in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What a clustering algorithm is to the search, as one object: the name the UI, CLI and API offer, the
ranges its parameters are drawn from (with AudioMuse-AI's option names and defaults), how a run draws and
mutates them, and how it fits. Drawing and mutating follow the parameters' declarations, so most
algorithms write only ``fit``.

- A ``RangeParameter`` is searched: each run draws ``name`` from a [minimum, maximum] range that the user
  sets as ``option`` (JSON ``<option>_min``/``<option>_max``, CLI ``--option MIN MAX``). Integers are drawn
  uniformly and move by up to the mutation's integer step; floats by up to its float step, rounded to 3
  decimals; both clipped to the range.
- Its ``role`` says what the number means to the library: a ``COUNT`` of clusters is drawn below the
  sample's size (at least 2) and capped at one cluster per few tracks on a small library; a cluster
  ``SIZE`` (DBSCAN's ``min_samples``) is capped at the average cluster size that leaves.
- A ``Setting`` is fixed for the whole search (spectral's subsampling limit), read through the search's
  configuration, never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

INT = "integer"
FLOAT = "number"
COUNT = "cluster count"
SIZE = "cluster size"
CLUSTERS = "num_clusters"  # the library's cluster range: K-Means draws from it, GMM and spectral follow it
DECIMALS = 3  # floats are drawn and mutated to this many decimals

Range = tuple[float, float]


@dataclass(frozen=True)
class RangeParameter:
    """One searched parameter of an algorithm, and the user's range for it."""

    name: str  # the run's value, as ``fit`` reads it ("n_clusters")
    option: str  # the range's name: JSON ``<option>_min``/``_max``, the builder's key, the CLI flag
    kind: str  # INT or FLOAT
    default: Range
    floor: float  # INT: the least bound allowed; FLOAT: bounds must lie above it
    description: str
    label: str = ""  # how the task log names the range ("GMM components"); the option when empty
    role: str = ""  # COUNT, SIZE or "" (kept as given on a small library)
    follows: str = ""  # an option whose range this one takes when not given
    cli: str = ""  # the CLI flag when not "--" + option with dashes

    @property
    def flag(self) -> str:
        return self.cli or "--" + self.option.replace("_", "-")

    @property
    def title(self) -> str:
        return self.label or self.option

    def bounds(self, requested: Range, n_samples: int) -> Range:
        """The range a run may use: a cluster count stays below the sample's size and at 2 or more."""
        if self.kind != INT or self.role != COUNT:
            return requested
        lo, hi = requested
        hi = max(2, min(hi, n_samples - 1))
        return min(max(2, lo), hi), hi

    def describe(self) -> dict:
        return {"name": self.option, "value": self.name, "type": self.kind, "label": self.title,
                "default": list(self.default), "minimum": self.floor, "exclusive_minimum": self.kind == FLOAT,
                "description": self.description, "follows": self.follows or None,
                "json": [f"{self.option}_min", f"{self.option}_max"], "cli": self.flag}


@dataclass(frozen=True)
class Setting:
    """A value an algorithm reads for the whole search (not drawn), settable through ``SearchConfig``."""

    name: str
    default: Any
    description: str

    def describe(self) -> dict:
        return {"name": self.name, "default": self.default, "description": self.description}


class ClusteringAlgorithm:
    """Subclass, set the class attributes, write ``fit`` (and ``subsample`` for an algorithm whose cost
    grows too fast with the sample), and ``register`` one instance."""

    name: str = ""  # lower case; AudioMuse-AI's ``clustering_method`` value
    label: str = ""  # for people (the UI's list)
    description: str = ""
    parameters: tuple[RangeParameter, ...] = ()
    settings: tuple[Setting, ...] = ()

    def draw(self, ranges: Mapping[str, Range], rng: np.random.Generator, n_samples: int) -> dict[str, Any]:
        """Fresh values, one per parameter in declaration order (the order the generator is used in)."""
        values: dict[str, Any] = {}
        for p in self.parameters:
            lo, hi = p.bounds(ranges[p.option], n_samples)
            values[p.name] = (int(rng.integers(lo, hi + 1)) if p.kind == INT
                              else round(float(rng.uniform(lo, hi)), DECIMALS))
        return values

    def mutate(self, values: Mapping[str, Any], ranges: Mapping[str, Range], rng: np.random.Generator,
               n_samples: int, int_step: int, float_step: float) -> dict[str, Any]:
        """``values`` moved a little: integers by up to ``int_step`` (at least 1), floats by up to
        ``float_step``, each clipped to its range."""
        moved = dict(values)
        for p in self.parameters:
            lo, hi = p.bounds(ranges[p.option], n_samples)
            if p.kind == INT:
                d = max(1, int_step)
                moved[p.name] = int(np.clip(values[p.name] + int(rng.integers(-d, d + 1)), lo, hi))
            else:
                step = values[p.name] + float(rng.uniform(-float_step, float_step))
                moved[p.name] = round(float(np.clip(step, lo, hi)), DECIMALS)
        return moved

    def subsample(self, sample: np.ndarray, seed: int, settings: Mapping[str, Any]) -> np.ndarray:
        """The rows a run really clusters (``sample`` unless the algorithm cannot afford them all)."""
        return sample

    def fit(self, values: Mapping[str, Any], x: np.ndarray, seed: int) -> np.ndarray:
        """Cluster labels for the rows of ``x`` (n, d); -1 marks noise."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it fits")

    def describe(self) -> dict:
        return {"name": self.name, "label": self.label, "description": self.description,
                "parameters": [p.describe() for p in self.parameters],
                "settings": [s.describe() for s in self.settings]}

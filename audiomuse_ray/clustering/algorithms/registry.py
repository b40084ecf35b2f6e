"""The algorithms on offer, in the order they are offered (the first is the default). The options
builder, the CLI's ``--algorithm`` choices and flags, the API's validation, the catalog the UI reads
through the API and the evolutionary search all read this; nothing else keeps a list of names."""

from __future__ import annotations

from audiomuse_ray.clustering.algorithms.base import ClusteringAlgorithm, RangeParameter
from audiomuse_ray.errors import BadRequest

_ALGORITHMS: dict[str, ClusteringAlgorithm] = {}
DEFAULT_ALGORITHM = "kmeans"


def register(algorithm: ClusteringAlgorithm) -> ClusteringAlgorithm:
    """Offer ``algorithm``. Its name and its range options must be new: the JSON body and the CLI take
    every algorithm's ranges side by side, so two owners of one option could not both be set."""
    name = algorithm.name
    if not name or name != name.strip().lower():
        raise ValueError(f"an algorithm's name is lower case without spaces around it; got {name!r}")
    if name in _ALGORITHMS:
        raise ValueError(f"a clustering algorithm called {name!r} is registered already")
    taken = {p.option: a.name for a in _ALGORITHMS.values() for p in a.parameters}
    for p in algorithm.parameters:
        if p.option in taken:
            raise ValueError(f"{name}: the range option {p.option!r} belongs to {taken[p.option]}")
        if p.follows and p.follows not in taken and p.follows not in {q.option for q in algorithm.parameters}:
            raise ValueError(f"{name}: {p.option} follows {p.follows!r}, which no algorithm registered owns")
    _ALGORITHMS[name] = algorithm
    return algorithm


def unregister(name: str) -> None:
    _ALGORITHMS.pop(name, None)


def get(name: str) -> ClusteringAlgorithm:
    """The registered algorithm; ``BadRequest`` naming the ones there are (the CLI prints it, the API
    answers it with a 400)."""
    try:
        return _ALGORITHMS[name]
    except KeyError:
        raise BadRequest(f"algorithm must be one of {', '.join(names())}; got {name!r}.") from None


def names() -> tuple[str, ...]:
    return tuple(_ALGORITHMS)


def algorithms() -> tuple[ClusteringAlgorithm, ...]:
    return tuple(_ALGORITHMS.values())


def parameters() -> tuple[RangeParameter, ...]:
    """Every registered algorithm's searched parameters, in the order offered."""
    return tuple(p for a in _ALGORITHMS.values() for p in a.parameters)


def parameter(option: str) -> RangeParameter:
    for p in parameters():
        if p.option == option:
            return p
    raise KeyError(f"no registered clustering algorithm has a range called {option!r}")


def algorithms_catalog() -> list[dict]:
    """Every algorithm as JSON: name, label, description, its parameters (option names, type, default
    range, lower bound, description, JSON and CLI names) and its settings. ``GET /api/clustering/algorithms``
    answers this; the UI builds its list from it."""
    return [a.describe() for a in _ALGORITHMS.values()]

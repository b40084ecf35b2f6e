"""Arrows that point one way: each package (or loose module) of ``audiomuse_ray`` imports only from layers
below its own, function-level imports included (they hide loops, they do not remove them). The layers are
the package map of the README, bottom first."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "audiomuse_ray"

# bottom first; a unit may import its own layer's members only where listed in SAME_LAYER
LAYERS: list[set[str]] = [
    {"errors"},  # typed errors, each with its HTTP status
    {"parsing", "netaddr", "labels"},  # loose input, addresses, the names of stored features
    {"settings"},  # one frozen Settings from every source
    {"store"},  # the only SQL
    {"providers", "llm"},  # the world outside: media servers, language models
    {"runtime"},  # Ray: connecting, the ingress environment, task progress, the job runner actor
    {"similarity", "chat", "recording"},  # pure cores over the store; which recording a track is
    {"analysis"},  # audio -> numbers, and its Ray fan-out (which rebuilds the similarity index)
    {"clustering", "collection"},  # searches and exchanges built on analysed tracks
    {"schedule"},  # jobs that start other jobs on time
    {"api"},  # use cases shared by the HTTP edge and the CLI
    {"ui"},  # a client of the HTTP API only
    {"serve"},  # the HTTP edge: Serve applications and routes
    {"commands"},  # the CLI's commands (``serve`` starts the HTTP edge)
    {"cli"},  # parses and dispatches to the commands
    {"__main__"},
]
SAME_LAYER: set[tuple[str, str]] = set()


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _layer_of() -> dict[str, int]:
    return {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "audiomuse_ray" and len(parts) > 1:
                out.add(parts[1])
    return out


def test_every_unit_has_a_layer():
    units = {_unit(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE}
    assert units - set(_layer_of()) == set()


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    layer = _layer_of()
    unit = _unit(path)
    if unit == "__init__":
        return
    upward = []
    for target in _imports(path):
        if target == unit or target not in layer:
            continue
        if layer[target] > layer[unit] or (layer[target] == layer[unit] and (unit, target) not in SAME_LAYER):
            upward.append(target)
    assert not upward, f"{path.relative_to(PACKAGE)} ({unit}) imports {sorted(upward)} from its layer or above"

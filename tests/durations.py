"""How long each test module took in a whole run (``tests/durations.tsv``), for the order modules run in.

``./test.sh`` hands whole modules to two xdist workers in the collection's order; a long module that starts
last keeps one worker busy while the other has nothing left. Longest first (within each group of
``tests/conftest.py``'s order) ends both together. The file is written by a run with
``--record-durations``; a module missing from it counts as quick.

    ./test.sh --record-durations     # then commit tests/durations.tsv
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

FILE = Path(__file__).with_name("durations.tsv")


def load(path: Path = FILE) -> dict[str, float]:
    """module path -> seconds (setup, call and teardown of its tests together)."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            seconds, module = line.split("\t")
            out[module] = float(seconds)
    return out


class Recorder:
    """Sums every report's duration by module (in xdist's controller: the reports of both workers)."""

    def __init__(self, path: Path = FILE):
        self.path = path
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report) -> None:
        self.seconds[report.nodeid.split("::", 1)[0]] += report.duration

    def pytest_sessionfinish(self, session) -> None:
        if session.testsfailed or not self.seconds:
            return  # a failed run's times say little
        rows = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        self.path.write_text("# seconds\tmodule (tests/durations.py)\n"
                             + "".join(f"{s:.1f}\t{m}\n" for m, s in rows))

"""The search as a population of Ray actors sharing elites through a coordinator.

- ``Coordinator`` (one actor, on the node of the process that runs ``search``) owns the run budget, the
  elite pool, the best result and the cancel flag. It hands out budgets in batches and remembers which
  explorer holds which, so a batch whose explorer died (or whose explorer's node did) goes back into the
  budget.
- ``Explorer`` actors (one per CPU by default) get the data once (one object in the object store), then
  loop: take a batch, read the current elites, run it, report. Every explorer exploits what any found.
- ``search`` drives it: progress into the task record, cancel within a run, dead explorers replaced.
- ``serial_search`` is the same search in one process (tests and the benchmark's baseline).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import numpy as np
import ray
from ray.exceptions import RayActorError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from audiomuse_ray.clustering.data import ClusteringData
from audiomuse_ray.clustering.evolution import ClusterParams, RunResult, SearchConfig, Strata, choose_params, \
    run_once, stratified_sample, update_elites

log = logging.getLogger(__name__)
BATCH = 5  # first batch; later ones are sized to BATCH_SECONDS of work
BATCH_SECONDS = 1.0
MAX_BATCH = 200
CANCEL_CHECK_S = 0.5
POLL_S = 0.5


@dataclass(frozen=True)
class SearchStatus:
    runs_done: int
    runs_total: int
    best_score: float | None
    cancelled: bool
    history: tuple[tuple[int, float], ...] = ()  # (runs done, new best score) at each improvement


class Coordinator:
    def __init__(self, runs: int, top_elites: int):
        self.remaining, self.total, self.top = runs, runs, top_elites
        self.done = 0
        self.elites: list[RunResult] = []
        self.best: RunResult | None = None
        self.cancelled = False
        self.outstanding: dict[str, int] = {}
        self.history: list[tuple[int, float]] = []

    def take(self, explorer: str, n: int) -> int:
        if self.cancelled or self.remaining <= 0:
            return 0
        n = min(n, self.remaining)
        self.remaining -= n
        self.outstanding[explorer] = self.outstanding.get(explorer, 0) + n
        return n

    def report(self, explorer: str, results: list[RunResult], granted: int) -> None:
        self.outstanding[explorer] = max(0, self.outstanding.get(explorer, 0) - granted)
        self.remaining += granted - len(results)  # runs skipped by a cancel go back (they are never taken)
        for r in results:
            self.done += 1
            self.elites = update_elites(self.elites, r, self.top)
            if self.best is None or r.score > self.best.score:
                self.best = r
                self.history.append((self.done, float(r.score)))

    def requeue(self, explorer: str) -> int:
        """An explorer died: its unreported batch goes back into the budget."""
        n = self.outstanding.pop(explorer, 0)
        self.remaining += n
        return n

    def elite_params(self) -> list[ClusterParams]:
        return [r.params for r in self.elites]

    def status(self) -> SearchStatus:
        return SearchStatus(self.done, self.total, None if self.best is None else self.best.score, self.cancelled,
                            tuple(self.history))

    def cancel(self) -> None:
        self.cancelled = True

    def is_cancelled(self) -> bool:
        return self.cancelled

    def best_result(self) -> RunResult | None:
        return self.best


class Explorer:
    def __init__(self, name: str, data: ClusteringData, cfg: SearchConfig, seed: int, coordinator):
        self.name, self.data, self.cfg, self.coordinator = name, data, cfg, coordinator
        self.rng = np.random.default_rng(seed)
        self.sample: np.ndarray | None = None
        self.strata = Strata(data.strata)

    def explore(self, batch: int = BATCH) -> int:
        """Take batches until the budget is spent. Batches grow to about ``BATCH_SECONDS`` of work and the
        cancel flag is read at most every ``CANCEL_CHECK_S``, so tiny runs are not drowned in calls."""
        runs, spent = 0, 0.0
        while True:
            if runs:
                batch = int(np.clip(BATCH_SECONDS / max(spent / runs, 1e-4), 1, MAX_BATCH))
            granted = ray.get(self.coordinator.take.remote(self.name, batch))
            if granted == 0:
                return runs
            elites = ray.get(self.coordinator.elite_params.remote())
            status = ray.get(self.coordinator.status.remote())
            results, last_check = [], time.monotonic()
            for i in range(granted):
                if time.monotonic() - last_check > CANCEL_CHECK_S:
                    last_check = time.monotonic()
                    if ray.get(self.coordinator.is_cancelled.remote()):
                        break
                t0 = time.monotonic()
                results.append(self.one_run(elites, status.runs_done + i))
                spent += time.monotonic() - t0
            ray.get(self.coordinator.report.remote(self.name, results, granted))
            runs += len(results)

    def one_run(self, elites: list[ClusterParams], runs_done: int) -> RunResult:
        self.sample = stratified_sample(self.strata, self.cfg, self.rng, self.sample)
        params = choose_params(self.cfg, self.rng, elites, runs_done, len(self.sample), self.data.features.shape[1])
        return run_once(self.data, params, self.sample, self.cfg)


def serial_search(data: ClusteringData, cfg: SearchConfig, seed: int = 0,
                  on_run: Callable[[int, RunResult], None] | None = None) -> RunResult:
    """The same search in this process: one explorer, no actors."""
    rng = np.random.default_rng(seed)
    elites: list[RunResult] = []
    best, sample = None, None
    strata = Strata(data.strata)
    for i in range(cfg.runs):
        sample = stratified_sample(strata, cfg, rng, sample)
        params = choose_params(cfg, rng, [e.params for e in elites], i, len(sample), data.features.shape[1])
        result = run_once(data, params, sample, cfg)
        elites = update_elites(elites, result, cfg.top_elites)
        best = result if best is None or result.score > best.score else best
        if on_run:
            on_run(i + 1, best)
    return best


def search(data: ClusteringData, cfg: SearchConfig, *, explorers: int, seed: int = 0,
           on_progress: Callable[[SearchStatus], None] | None = None,
           cancelled: Callable[[], bool] = lambda: False, run_id: str | None = None,
           ) -> tuple[RunResult | None, SearchStatus, int]:
    """Run the population on the connected Ray cluster: (best result, final status, explorers replaced).

    Explorers are named actors ``<run_id>/explorer-<i>`` so they can be found (and inspected) by name. The
    coordinator is pinned to this process's node: left to the scheduler, a zero-CPU actor may land on any
    node, and losing that node (an explorer's, say) would lose the whole search, not one batch."""
    run_id = run_id or uuid.uuid4().hex[:12]
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    coordinator = ray.remote(Coordinator).options(num_cpus=0, scheduling_strategy=here).remote(cfg.runs, cfg.top_elites)
    data_ref = ray.put(data.for_search())  # arrays only: each explorer maps them, none copies names
    explorer_cls = ray.remote(Explorer)
    running: dict = {}
    started = 0

    def start() -> None:
        nonlocal started
        name = f"explorer-{started}"
        actor = explorer_cls.options(name=f"{run_id}/{name}", num_cpus=1, max_restarts=0, max_task_retries=0).remote(
            name, data_ref, cfg, seed + 1000 * started, coordinator)
        running[actor.explore.remote()] = (name, actor)
        started += 1

    for _ in range(explorers):
        start()
    replaced = 0
    try:
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
            for ref in ready:
                name, actor = running.pop(ref)
                try:
                    ray.get(ref)
                except RayActorError:
                    back = ray.get(coordinator.requeue.remote(name))
                    log.warning("%s died; %d runs go back into the budget; starting a replacement", name, back)
                    replaced += 1
                    start()
            status = ray.get(coordinator.status.remote())
            if on_progress:
                on_progress(status)
            if not status.cancelled and cancelled():
                ray.get(coordinator.cancel.remote())
        return ray.get(coordinator.best_result.remote()), ray.get(coordinator.status.remote()), replaced
    finally:
        for _name, actor in running.values():
            ray.kill(actor, no_restart=True)
        ray.kill(coordinator, no_restart=True)

"""The table ``benchmarks/scale.py`` prints: one row per measure, one column per size, one block per database,
each figure beside issue #20's target at 1M."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median


def _get(r: dict, *keys, default=None):
    for k in keys:
        if not isinstance(r, dict) or k not in r:
            return default
        r = r[k]
    return r


def _f(value, fmt: str = "{:.1f}") -> str:
    if value is None or value == [] or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, list):
        value = median(value)
    return fmt.format(value)


ROWS = [  # (label, target at 1M, cell)
    ("store filled (s, not a target)", "", lambda r: _f(r.get("fill_s"), "{:.0f}")),
    ("index build: store -> stored index, artists, map (s)", "≤ 480",
     lambda r: _f(r.get("build_s"), "{:.0f}")),
    ("  of which read / HNSW / artists / map / store (s)", "",
     lambda r: "/".join(_f(_get(r, "build_steps", k), "{:.0f}") for k in ("read", "index", "artists", "map", "store"))),
    ("index storage; stored index + vectors (MB)", "",
     lambda r: f"{r.get('storage', 'float32')}; {_f((r.get('index_bytes') or 0) / 1e6 or None, '{:.0f}')}"
               + (f" + {r['vectors_bytes'] / 1e6:.0f}" if r.get("vectors_bytes") else "")),
    ("recall@10 vs exact, 1,000 seeds: as served / index alone", "≥ 0.95",
     lambda r: f"{_f(r.get('recall10'), '{:.3f}')}/{_f(r.get('recall10_index', r.get('recall10')), '{:.3f}')}"),
    ("query ef 32/48/64/96: recall@10 as served; similar_tracks' index query (ms)", "",
     lambda r: "; ".join(f"{ef}: {_f(_get(r, 'query_ef_sweep', ef, 'recall10'), '{:.3f}')} "
                         f"{_f(_get(r, 'query_ef_sweep', ef, 'query_ms'), '{:.2f}')}"
                         for ef in ("32", "48", "64", "96")) if r.get("query_ef_sweep") else "—"),
    ("other storage: build s / MB / recall@10 raw / re-ranked of 41", "",
     lambda r: (f"{_get(r, 'other', 'storage')}: " + "/".join([
         _f(_get(r, "other", "build_s"), "{:.0f}"), _f((_get(r, "other", "bytes") or 0) / 1e6 or None, "{:.0f}"),
         _f(_get(r, "other", "recall10"), "{:.3f}"), _f(_get(r, "other", "recall10_reranked"), "{:.3f}")]))
     if r.get("other") else "—"),
    ("replica: resident memory after load, RSS / PSS (MB)", "≤ 1,536",
     lambda r: f"{_f(_get(r, 'replica_memory', 'rss_mb'), '{:.0f}')}/{_f(_get(r, 'replica_memory', 'pss_mb'), '{:.0f}')}"),
    ("replica start to first answer (s)", "≤ 60", lambda r: _f(r.get("start_to_answer_s"))),
    ("similar_tracks HTTP p50 / p99 (ms)", "≤ 3 / ≤ 10",
     lambda r: f"{_f(r.get('similar_p50_ms'), '{:.2f}')}/{_f(r.get('similar_p99_ms'), '{:.2f}')}"),
    ("  in process, no HTTP: index query / whole use case (ms)", "",
     lambda r: f"{_f(_get(r, 'similar_in_process_ms', 'query'), '{:.2f}')}/"
               f"{_f(_get(r, 'similar_in_process_ms', 'similar'), '{:.2f}')}"),
    ("similar_tracks req/s, 4 clients (GET /api/health: the HTTP floor)", "≥ 500",
     lambda r: f"{_f(r.get('similar_rps_4'), '{:.0f}')} ({_f(r.get('health_rps_4'), '{:.0f}')})"),
    ("hot reload under 4 clients: failed / requests", "0",
     lambda r: f"{_get(r, 'reload', 'failed', default='—')}/{_get(r, 'reload', 'requests', default='—')}"),
    ("  peak / steady RSS (MB); new version served after (s)", "peak ≤ 2× steady",
     lambda r: f"{_f(_get(r, 'reload', 'peak_rss_mb'), '{:.0f}')}/{_f(_get(r, 'reload', 'steady_rss_mb'), '{:.0f}')}; "
               f"{_f(_get(r, 'reload', 'swapped_s'), '{:.0f}')}"),
    ("  p99 / max latency while swapping (ms)", "",
     lambda r: f"{_f(_get(r, 'reload', 'p99_ms'), '{:.0f}')}/{_f(_get(r, 'reload', 'max_ms'), '{:.0f}')}"),
    ("/api/map 20k sample: first / cached (ms)", "≤ 2,000",
     lambda r: f"{_f(r.get('map_first_ms'), '{:.0f}')}/{_f(r.get('map_ms'), '{:.0f}')}"),
    ("UI map drawn from the click (ms)", "≤ 5,000", lambda r: _f(_get(r, "ui", "map_drawn_ms"), "{:.0f}")),
    ("search_tracks HTTP p50 (ms)", "≤ 200", lambda r: _f(r.get("search_ms"), "{:.0f}")),
    ("/api/dashboard/summary: first / then (ms)", "≤ 200",
     lambda r: f"{_f(r.get('dashboard_first_ms'), '{:.0f}')}/{_f(r.get('dashboard_ms'), '{:.0f}')}"),
    ("  right after the replica's first answer (ms: waits for the start-up snapshot)", "",
     lambda r: _f(r.get("dashboard_at_start_ms"), "{:.0f}")),
    ("  its SQL aggregates alone (s)", "", lambda r: _f(r.get("dashboard_sql_s"), "{:.2f}")),
    ("clustering: 1,000 runs on 2 explorers (s)", "≤ 900", lambda r: _f(r.get("clustering_search_s"), "{:.0f}")),
    ("  sample a run / explorer peak RSS (MB)", "≤ 1,024",
     lambda r: f"{r.get('clustering_sample_size') or 'all'}/{_f(r.get('explorer_peak_rss_mb'), '{:.0f}')}"),
    ("  library read / whole library assigned (s)", "",
     lambda r: f"{_f(r.get('clustering_load_s'), '{:.0f}')}/{_f(r.get('clustering_assign_s'), '{:.1f}')}"),
    ("machine speed probe (ms, lower is faster)", "", lambda r: _f(r.get("machine_speed_ms"), "{:.0f}")),
    ("load average (1 min) before / after", "", lambda r: f"{_f((r.get('load_before') or [None])[0])}/"
                                                         f"{_f((r.get('load_after') or [None])[0])}"),
]


def print_table(files: list[Path]) -> None:
    results = [json.loads(f.read_text()) for f in files]
    for db in sorted({r["db"] for r in results}):
        mine = sorted((r for r in results if r["db"] == db), key=lambda r: r["n"])
        sizes = [f"{r['n']:,}" for r in mine]
        print(f"\n{db} ({mine[0].get('cpus')} CPUs)")
        print(f"| measure | target at 1M | {' | '.join(sizes)} |")
        print(f"| --- | --- | {' | '.join('---' for _ in sizes)} |")
        for label, target, cell in ROWS:
            print(f"| {label} | {target} | {' | '.join(cell(r) for r in mine)} |")

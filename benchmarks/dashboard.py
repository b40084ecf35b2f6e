"""The library dashboard's cost on a big library: ``dashboard_summary`` over N generated ``score`` rows.

    .venv/bin/python benchmarks/dashboard.py --postgres postgresql://postgres@127.0.0.1:5432/postgres [--tracks 1000000]

Makes a throw-away database on that server, fills ``score`` inside PostgreSQL (generate_series: 50,000
artists, 80,000 album names, tempos, keys, the six moods as ``other_features`` text, analysed over 60
days), then times each aggregate of ``store/dashboard.py``, the whole summary three times, and the HTTP
route as a replica serves it from its snapshot (``--calls`` requests after the first). Printed, not
asserted: the figures depend on the machine (2 shared cores here: about 4-5 s for 1M tracks, most of it
reading the moods out of their text and hashing 400,000 albums).
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime, timedelta, timezone

SEED = """INSERT INTO score (item_id, title, author, album, album_artist, tempo, key, scale, other_features, analysed_at)
SELECT 'i' || g, 'T' || g, 'artist ' || (g % 50000), 'album ' || (g % 80000), 'artist ' || (g % 50000),
       60 + (g * 7919 % 140), (ARRAY['C','D','E','F','G','A','B'])[1 + g % 7],
       CASE WHEN g % 2 = 0 THEN 'major' ELSE 'minor' END,
       'danceable:' || ((g * 13 % 100) / 100.0) || ',aggressive:' || ((g * 17 % 100) / 100.0)
       || ',happy:' || ((g * 19 % 100) / 100.0) || ',party:' || ((g * 23 % 100) / 100.0)
       || ',relaxed:' || ((g * 29 % 100) / 100.0) || ',sad:' || ((g * 31 % 100) / 100.0),
       now() - (g % 60) * interval '1 day'
FROM generate_series(1::bigint, :n) g"""


def main() -> None:
    import psycopg2
    from sqlalchemy import text

    from audiomuse_ray.labels import MOOD_LABELS
    from audiomuse_ray.api.dashboard_api import dashboard_summary
    from audiomuse_ray.store import dashboard as agg
    from audiomuse_ray.store import open_store

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--postgres", required=True, help="a server URL; a database is created and dropped there")
    p.add_argument("--tracks", type=int, default=1_000_000)
    p.add_argument("--calls", type=int, default=200, help="requests timed against the route once its snapshot exists")
    args = p.parse_args()
    name = "audiomuse_bench_" + uuid.uuid4().hex[:8]
    admin = psycopg2.connect(args.postgres)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        store = open_store(f"{args.postgres.rsplit('/', 1)[0]}/{name}")
        started = time.monotonic()
        with store.begin() as conn:
            conn.execute(text(SEED), {"n": args.tracks})
            conn.execute(text("ANALYZE score"))
        print(f"{args.tracks} tracks generated in {time.monotonic() - started:.1f} s")
        since = datetime.now(timezone.utc) - timedelta(days=30)
        for label, fn in (("counts", lambda: agg.library_counts(store)),
                          ("moods", lambda: agg.mood_coverage(store, MOOD_LABELS)),
                          ("tempo profile", lambda: agg.tempo_profile(store)),
                          ("tempo histogram", lambda: agg.tempo_histogram(store)),
                          ("key histogram", lambda: agg.key_histogram(store)),
                          ("analysed per day", lambda: agg.analysed_per_day(store, since))):
            started = time.monotonic()
            fn()
            print(f"  {label:<18} {time.monotonic() - started:6.2f} s")
        for _ in range(3):
            started = time.monotonic()
            dashboard_summary(store)
            print(f"dashboard_summary  {time.monotonic() - started:6.2f} s")
        route(store, args.calls)
        store.dispose()
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def route(store, calls: int) -> None:
    """``GET /api/dashboard/summary`` as a replica answers it (the router in process, its snapshot cache):
    the first request computes the snapshot, the next ones read it plus the live part."""
    import statistics

    from fastapi.testclient import TestClient

    from audiomuse_ray.api.holder import LibraryHolder
    from audiomuse_ray.providers import make_provider
    from audiomuse_ray.serve.http_app import create_api
    from audiomuse_ray.serve.routes import dashboard
    from audiomuse_ray.serve.services import Services, install
    from audiomuse_ray.settings import Settings

    install(Services(Settings.load({}, database_url=store.url), store, LibraryHolder(store), make_provider))
    client = TestClient(create_api([dashboard.router]))
    started = time.monotonic()
    assert client.get("/api/dashboard/summary").status_code == 200
    print(f"route, first request (computes the snapshot)  {time.monotonic() - started:6.2f} s")
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        assert client.get("/api/dashboard/summary").status_code == 200
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    print(f"route, next {calls} requests: median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms, max {times[-1]:.1f} ms")


if __name__ == "__main__":
    main()

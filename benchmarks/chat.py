"""Instant-playlist speed: the guard's cost per statement, and a whole request against a loopback model.

    .venv/bin/python benchmarks/chat.py --from-db sqlite:///PATH/audiomuse.db [--postgres URL] [--requests 200]

- guard: for each statement (the prompt's examples, keyword-mode statements, a typical model answer with a
  markdown fence and UNION ALL, and the refusals of the hostile corpus), the median time of parse, validate
  and (for SQLite) transpile + re-validate, over ``--repeat`` runs;
- long and deep inputs: the guard's time per kilobyte on answers at and past the length limits (a fence
  followed by spaces, prose, long IN lists, long literals) and on nesting at and past the depth limit
  (parentheses, CASE, lower(, NOT); every one must end as a refusal or an accepted statement within a few
  milliseconds per kilobyte;
- end to end: ``chat.service.instant_playlist`` as the route calls it -- HTTP to a loopback OpenAI-format
  model (answering at once), guard, read-only run -- on SQLite and, with ``--postgres``, on PostgreSQL,
  with the ``score`` rows of an analysed library (``--from-db``: a database the analysis wrote; without it
  the clip corpus is analysed here on a local Ray first). The model's own thinking time is not included:
  a real model adds seconds; this is what the service adds around it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

from audiomuse_ray.chat import keywords  # noqa: E402
from audiomuse_ray.chat.sql_guard import guard_sql  # noqa: E402
from audiomuse_ray.chat.prompt import feature_score  # noqa: E402
from audiomuse_ray.chat.service import ChatRequest, instant_playlist  # noqa: E402
from audiomuse_ray.errors import UnsafeQuery  # noqa: E402
from audiomuse_ray.settings import Settings  # noqa: E402
from audiomuse_ray.store import open_store  # noqa: E402
from audiomuse_ray.store.schema import score  # noqa: E402
from tests.chat.attack_classes import deep_nesting, long_answers  # noqa: E402
from tests.chat.hostile import ACCEPTED, HOSTILE  # noqa: E402
from tests.fakes.llm import FakeLLM  # noqa: E402

MODEL_ANSWER = f"""```sql
SELECT item_id, title, author FROM (
  SELECT item_id, title, author FROM public.score WHERE {feature_score('mood_vector', 'ambient')} >= 0.3
  UNION ALL
  SELECT item_id, title, author FROM public.score WHERE {feature_score('other_features', 'relaxed')} >= 0.2
    AND tempo < 100
) AS mixed ORDER BY random() LIMIT 100
```"""
STATEMENTS = {
    "simple": "SELECT item_id, title, author FROM score WHERE tempo > 120 ORDER BY random() LIMIT 25",
    "model answer (fence, UNION ALL)": MODEL_ANSWER,
    "keywords: calm ambient": keywords.build_sql(keywords.plan("calm ambient")),
    "keywords: fast aggressive metal": keywords.build_sql(keywords.plan("fast aggressive metal")),
    "top songs (CASE WHEN)": "SELECT item_id, title, author FROM score WHERE author ILIKE '%Maxstack%' ORDER BY "
                             "CASE WHEN title = 'Awakening' THEN 1 WHEN title = 'Coherence' THEN 2 ELSE 3 END, random()",
}


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def bench_guard(repeat: int) -> None:
    print(f"guard, median of {repeat} runs (ms): parse / validate / transpile+revalidate (SQLite) / total SQLite")
    for name, sql in STATEMENTS.items():
        parse, validate, transpile, total = [], [], [], []
        for _ in range(repeat):
            started = time.perf_counter()
            q = guard_sql(sql, "sqlite")
            total.append(time.perf_counter() - started)
            parse.append(q.timings["parse_s"])
            validate.append(q.timings["validate_s"])
            transpile.append(q.timings["transpile_s"])
        print(f"  {name:34s} {median_ms(parse):6.2f} / {median_ms(validate):6.2f} / {median_ms(transpile):6.2f}"
              f" / {median_ms(total):6.2f}")
    refusals = []
    for _ in range(max(1, repeat // 10)):
        for name, sql in HOSTILE:
            if name in ACCEPTED:
                continue
            started = time.perf_counter()
            try:
                guard_sql(sql, "postgresql")
            except UnsafeQuery:
                pass
            refusals.append(time.perf_counter() - started)
    print(f"  refusing a hostile statement ({len(HOSTILE) - len(ACCEPTED)} kinds): median {median_ms(refusals):.2f} ms,"
          f" max {max(refusals) * 1000:.2f} ms")


def bench_long_and_deep(repeat: int) -> None:
    base = "SELECT item_id, title, author FROM score WHERE "
    inputs = {f"{label} ({len(sql) / 1024:.1f} KB)": sql for label, sql in [
        ("fence + 19,990 spaces", "```sql\n" + " " * 19_990),
        ("fence + 20,000 spaces", "```" + " " * 20_000),
        ("prose lines, then a SELECT", "Here is the query:\n" * 1000 + "SELECT item_id FROM score"),
        ("IN list of 480 literals (near the token limit)", base + "title IN (" + ", ".join(["'x'"] * 480) + ")"),
        ("IN list of 1,500 literals", base + "title IN (" + ", ".join(["'x'"] * 1500) + ")"),
        ("7,900-character literal", base + "title = '" + "a" * 7_900 + "'"),
        ("160 ORs (near the token limit)", base + " OR ".join(["title = 'a'"] * 160)),
        ("400 ORs", base + " OR ".join(["title = 'a'"] * 400)),
        ("20 nested parentheses", base + "tempo > " + "(" * 20 + "1" + ")" * 20),
        ("1,000 nested parentheses", base + "tempo > " + "(" * 1000 + "1" + ")" * 1000),
        ("1,000 nested lower(", base + "title = " + "lower(" * 1000 + "title" + ")" * 1000),
        ("1,000 NOTs", base + "NOT " * 1000 + "tempo > 1"),
    ]}
    inputs.update({f"attack: {sql[:28]!r}… ({len(sql) / 1024:.1f} KB)": sql for sql in long_answers()[:3]})
    worst = 0.0
    print(f"guard on long and deep inputs, median of {repeat} runs (SQLite path: parse, validate, transpile):")
    for name, sql in inputs.items():
        times, outcome = [], ""
        for _ in range(repeat):
            started = time.perf_counter()
            try:
                guard_sql(sql, "sqlite")
                outcome = "accepted"
            except UnsafeQuery as exc:
                outcome = "refused: " + str(exc)[:48]
            times.append(time.perf_counter() - started)
        per_kb = median_ms(times) / max(len(sql) / 1024, 1.0)
        worst = max(worst, per_kb)
        print(f"  {name:44s} {median_ms(times):7.2f} ms  ({per_kb:5.2f} ms/KB)  {outcome}")
    deep: list[float] = []
    for sql in deep_nesting():
        started = time.perf_counter()
        try:
            guard_sql(sql, "postgresql")
        except UnsafeQuery:
            pass
        deep.append(time.perf_counter() - started)
    print(f"  {len(deep)} deep-nesting attacks: max {max(deep) * 1000:.2f} ms; worst per KB above: {worst:.2f} ms")


def copy_scores(source_url: str, target_url: str) -> int:
    src = open_store(source_url)
    with src.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(score))]
    src.dispose()
    dst = open_store(target_url)
    with dst.begin() as conn:
        conn.execute(insert(score), rows)
    dst.dispose()
    return len(rows)


def analysed_corpus(tmp: Path) -> str:
    from audiomuse_ray.analysis.run import run_analysis

    library = Path.home() / ".cache" / "audiomuse-ray" / "corpus-clip30" / "library"
    settings = Settings.load({}, data_dir=str(tmp / "analysed"), music_dir=str(library), models_dir=str(REPO / "models"))
    run_analysis(settings, store=open_store(settings.database_url))
    return settings.database_url


def bench_requests(name: str, url: str, requests: int) -> None:
    store = open_store(url)
    with FakeLLM(MODEL_ANSWER) as llm:
        settings = Settings.load({}, database_url=url, ai_provider="OPENAI", ai_url=llm.url,
                                 chat_db_user="audiomuse_chat_bench")
        for words, provider in (("ambient or relaxed and slow", "OPENAI"), ("calm ambient", "KEYWORDS")):
            instant_playlist(settings, store, ChatRequest(words, provider=provider))  # warm: role, connections
            times, found = [], 0
            for _ in range(requests):
                started = time.perf_counter()
                result = instant_playlist(settings, store, ChatRequest(words, provider=provider))
                times.append(time.perf_counter() - started)
                found = len(result.songs or ())
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))]
            print(f"  {name:10s} {provider:8s} {len(times)} requests: p50 {median_ms(times):6.2f} ms, "
                  f"p95 {p95 * 1000:6.2f} ms ({found} songs)")
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-db", help="database URL of an analysed library (default: analyse the clip corpus)")
    parser.add_argument("--postgres", help="PostgreSQL server URL to also measure on (a throw-away database is made)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--guard-only", action="store_true", help="only the guard's figures, no database")
    args = parser.parse_args()

    bench_guard(args.repeat)
    bench_long_and_deep(max(5, args.repeat // 20))
    if args.guard_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = args.from_db or analysed_corpus(Path(tmp))
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        n = copy_scores(source, sqlite_url)
        print(f"end to end (loopback model answering at once; guard; read-only run), {n} analysed songs:")
        bench_requests("SQLite", sqlite_url, args.requests)
        if args.postgres:
            import psycopg2

            db = "audiomuse_bench_chat_" + uuid.uuid4().hex[:8]
            admin = psycopg2.connect(args.postgres)
            admin.autocommit = True
            admin.cursor().execute(f'CREATE DATABASE "{db}"')
            try:
                pg_url = args.postgres.rsplit("/", 1)[0] + "/" + db
                copy_scores(source, pg_url)
                bench_requests("PostgreSQL", pg_url, args.requests)
            finally:
                admin.cursor().execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                admin.close()


if __name__ == "__main__":
    main()

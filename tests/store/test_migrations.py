"""Schema migrations on real databases: a library written by release 0.1.0 upgrades without losing a row,
on SQLite (the file that release wrote) and PostgreSQL (the same rows, loaded into release 0.1.0's
schema); the revisions and the code's schema agree; a newer database is refused untouched."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from audiomuse_ray.errors import StoreError
from audiomuse_ray.store import migrate, open_store, schema_version
from audiomuse_ray.store.schema import metadata

# Written by release 0.1.0 (commit 9062cab): `audiomuse-ray analyze` of one corpus album (10 tracks) plus
# three broken files (one truncated file still analyses), then one playlist created through the API code. Real rows in every table.
RELEASE_DB = Path(__file__).parent / "fixtures" / "release-0.1.0.sqlite"
TABLES = ("score", "embedding", "index_store", "map_projection", "playlist", "task_status", "analysis_error",
          "audiomuse_meta")


def release_rows() -> dict[str, list[tuple]]:
    conn = sqlite3.connect(f"file:{RELEASE_DB}?mode=ro", uri=True)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        conn.close()


def rows_now(url: str, columns_of_release: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of each table, in release 0.1.0's columns, normalised to what SQLite returns."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    out = {}
    with engine.connect() as conn:
        for t in TABLES:
            cols = ", ".join(f'"{c}"' for c in columns_of_release[t])
            rows = conn.execute(text(f"SELECT {cols} FROM {t}")).all()
            out[t] = sorted((tuple(_normal(v) for v in r) for r in rows), key=repr)
    engine.dispose()
    return out


def _normal(v):
    if isinstance(v, memoryview):
        return bytes(v)
    if hasattr(v, "isoformat"):  # PostgreSQL gives datetimes, SQLite the text it stored
        return v.replace(tzinfo=None).isoformat(sep=" ")
    return v


def release_columns() -> dict[str, list[str]]:
    conn = sqlite3.connect(f"file:{RELEASE_DB}?mode=ro", uri=True)
    try:
        return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    finally:
        conn.close()


def test_the_release_file_is_what_it_claims():
    rows = release_rows()
    assert len(rows["score"]) == 11 and len(rows["embedding"]) == 11 and len(rows["analysis_error"]) >= 2
    assert rows["audiomuse_meta"] == [("schema_version", "1")] and len(rows["playlist"]) == 1
    assert len(rows["index_store"]) == 1 and len(rows["map_projection"]) == 1
    assert "runner" not in release_columns()["task_status"]


def test_release_sqlite_file_upgrades_and_keeps_every_row(tmp_path):
    db = tmp_path / "audiomuse.db"
    shutil.copy(RELEASE_DB, db)
    before = release_rows()
    store = open_store(f"sqlite:///{db}")
    assert schema_version(store) == migrate.head_revision() != migrate.BASELINE
    assert "runner" in {c["name"] for c in inspect(store.engine).get_columns("task_status")}
    store.dispose()
    assert rows_now(f"sqlite:///{db}", release_columns()) == before
    # and the upgraded library still works: the analysed tracks are there for the next run to skip
    from audiomuse_ray.store import tracks

    store = open_store(f"sqlite:///{db}")
    assert len(tracks.analysed_ids(store)) == 11 and len(tracks.list_errors(store)) == len(before["analysis_error"])
    store.dispose()


@pytest.mark.postgres
def test_release_rows_on_postgresql_upgrade_and_survive(postgres_url):
    """PostgreSQL: release 0.1.0's schema (revision 0001, unstamped as that release left it) holding the
    release file's rows, then ``open_store``."""
    from alembic import command

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        cfg = migrate._config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, migrate.BASELINE)
        conn.execute(text("DROP TABLE alembic_version"))  # 0.1.0 had no Alembic
        before = release_rows()
        cols = release_columns()
        for t in TABLES:
            for row in before[t]:
                names = ", ".join(f'"{c}"' for c in cols[t])
                params = {f"p{i}": v for i, v in enumerate(row)}
                if t == "task_status":  # SQLite keeps booleans as 0/1
                    params[f"p{cols[t].index('cancel_requested')}"] = bool(row[cols[t].index("cancel_requested")])
                conn.execute(text(f"INSERT INTO {t} ({names}) VALUES ({', '.join(':' + k for k in params)})"), params)
    engine.dispose()
    store = open_store(postgres_url)
    assert schema_version(store) == migrate.head_revision()
    store.dispose()
    after = rows_now(postgres_url, release_columns())
    for t in TABLES:
        if t == "task_status":  # booleans come back as booleans
            after[t] = [tuple(int(v) if isinstance(v, bool) else v for v in r) for r in after[t]]
        if t in ("score",):  # floats through PostgreSQL's double precision are the same numbers
            assert len(after[t]) == len(before[t])
            continue
        assert after[t] == before[t], t
    assert {r[0] for r in after["score"]} == {r[0] for r in before["score"]}


def test_revisions_build_exactly_the_schema_the_code_uses(db_url):
    """A change to ``schema.py`` without a revision (or the reverse) fails here."""
    store = open_store(db_url)
    insp = inspect(store.engine)
    for table in metadata.sorted_tables:
        db_cols = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(db_cols) == {c.name for c in table.columns}, table.name
        for col in table.columns:
            assert db_cols[col.name]["nullable"] == col.nullable, (table.name, col.name)
        db_indexes = {i["name"]: (tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table.name)}
        for index in table.indexes:
            assert db_indexes.get(index.name) == (tuple(c.name for c in index.columns), bool(index.unique)), index.name
    store.dispose()


def test_a_newer_database_is_refused_and_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_store(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer audiomuse-ray"):
        open_store(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    engine.dispose()


def open_at_once(db: Path, openers: int = 4) -> list[BaseException]:
    """What ``openers`` threads opening ``db`` together raised (each thread's own connections)."""
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_store(f"sqlite:///{db}").dispose()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_processes_opening_an_old_database_at_once_migrate_it_once(tmp_path):
    db = tmp_path / "audiomuse.db"
    shutil.copy(RELEASE_DB, db)
    assert open_at_once(db) == []
    assert rows_now(f"sqlite:///{db}", release_columns()) == release_rows()


def test_db_upgrade_command(tmp_path, capsys):
    from audiomuse_ray.cli import main

    db = tmp_path / "audiomuse.db"
    shutil.copy(RELEASE_DB, db)
    assert main(["--database-url", f"sqlite:///{db}", "db", "current"]) == 0
    assert migrate.BASELINE in capsys.readouterr().out
    assert main(["--database-url", f"sqlite:///{db}", "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"{migrate.BASELINE} -> {migrate.head_revision()}" in out


def test_workers_opening_a_rollback_journal_library_at_once_never_fail_as_locked(tmp_path):
    """Several workers opening a release 0.1.0 library (rollback journal) together: none fails as locked."""
    errors: list[BaseException] = []
    for round_ in range(60):  # the race needs two switches to meet: one round in ~30 shows it
        db = tmp_path / f"library-{round_}.db"
        shutil.copy(RELEASE_DB, db)
        errors += open_at_once(db)
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    assert errors == []

"""The use cases behind /api/anchors, /api/radios and /api/cron, in AudioMuse-AI's JSON shapes and error
messages, on SQLite and PostgreSQL; running radios hands the previous playlist id to the writer so it can
replace that playlist in place; and the ``schedule`` command line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from audiomuse_ray.errors import AlreadyExists, BadRequest, UnknownAnchor, UnknownRadio, UnknownSchedule
from audiomuse_ray.providers.base import PlayRecord
from audiomuse_ray.schedule import cron_api, radios_api
from tests.schedule.library import library

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
UTC = timezone.utc


@pytest.fixture(scope="module")
def lib():
    return library()


class Writer:
    """A media server's playlists in memory: each write replaces the previous id's playlist."""

    def __init__(self, fail: set[str] = frozenset()):
        self.playlists: dict[str, tuple[str, list[str]]] = {}
        self.calls: list[tuple[str, str | None]] = []
        self.fail = fail

    def __call__(self, name: str, item_ids: list[str], previous_id: str | None) -> str:
        from audiomuse_ray.errors import ProviderUnavailable

        if name in self.fail:
            raise ProviderUnavailable("the media server did not answer")
        self.calls.append((name, previous_id))
        playlist_id = previous_id or f"pl-{len(self.playlists) + 1}"
        self.playlists[playlist_id] = (name, list(item_ids))
        return playlist_id


def test_anchor_routes(store):
    made = radios_api.create_anchor(store, {"name": " Focus ", "items": [{"type": "song", "id": "c0-t000"},
                                                                         {"id": "c1-t000", "op": "SUBTRACT"}]})
    assert made == {"anchor": {"id": made["anchor"]["id"], "name": "Focus"}}
    legacy = radios_api.create_anchor(store, {"name": "Old", "centroid": [0.1, 0.2], "exclusions": []})
    listed = radios_api.list_anchors(store)["anchors"]
    assert [a["name"] for a in listed] == ["Old", "Focus"] and listed[0]["has_centroid"] and listed[0]["items"] == []
    assert listed[1]["items"][1] == {"type": "song", "id": "c1-t000", "op": "SUBTRACT"}
    for body, message in (({"name": "  ", "centroid": [0.1]}, "Anchor name is required"),
                          ({"name": "A", "centroid": "not-a-list"}, "must be a list"),
                          ({"name": "A", "centroid": []}, "must be a list"),
                          ({"name": "A"}, "needs 'items'"),
                          ({"name": "A", "centroid": [0.1], "exclusions": [{"vector": []}]}, "non-empty vector")):
        with pytest.raises(BadRequest, match=message):
            radios_api.create_anchor(store, body)
    with pytest.raises(AlreadyExists):
        radios_api.create_anchor(store, {"name": "Focus", "centroid": [1.0]})
    assert radios_api.update_anchor(store, legacy["anchor"]["id"], {"name": "Older"})["anchor"]["name"] == "Older"
    with pytest.raises(BadRequest, match="Anchor name is required"):
        radios_api.update_anchor(store, legacy["anchor"]["id"], {"name": "   "})
    assert radios_api.delete_anchor(store, legacy["anchor"]["id"]) == {"deleted": True}
    with pytest.raises(UnknownAnchor):
        radios_api.delete_anchor(store, legacy["anchor"]["id"])


def test_radio_routes(store):
    anchor_id = radios_api.create_anchor(store, {"name": "Jazz", "items": [{"id": "c0-t000"}]})["anchor"]["id"]
    for body, message in (({"temperature": 1.0, "n_results": 10}, "Radio anchor is required"),
                          ({"anchor_id": anchor_id, "n_results": 10}, "temperature is required"),
                          ({"anchor_id": anchor_id, "temperature": 1.0}, "number of results is required"),
                          ({"anchor_id": anchor_id, "temperature": "hot", "n_results": 10}, "must be a number"),
                          ({"anchor_id": anchor_id, "temperature": -1, "n_results": 10}, "0 or greater"),
                          ({"anchor_id": anchor_id, "temperature": 1, "n_results": 0}, "between 1 and 200"),
                          ({"anchor_id": anchor_id, "temperature": 1, "n_results": 5, "max_repeat_share": 2}, "between 0 and 1")):
        with pytest.raises(BadRequest, match=message):
            radios_api.create_radio(store, body)
    radio = radios_api.create_radio(store, {"anchor_id": anchor_id, "temperature": 0.5, "n_results": 12})["radio"]
    assert {k: radio[k] for k in ("anchor_id", "name", "temperature", "n_results", "enabled")} == {
        "anchor_id": anchor_id, "name": "Jazz", "temperature": 0.5, "n_results": 12, "enabled": True}
    with pytest.raises(AlreadyExists):
        radios_api.create_radio(store, {"anchor_id": anchor_id, "temperature": 0, "n_results": 5})
    updated = radios_api.update_radio(store, radio["id"], {"enabled": "false", "skip_played_days": 14})["radio"]
    assert (updated["enabled"], updated["skip_played_days"], updated["n_results"]) == (False, 14, 12)
    assert radios_api.list_radios(store)["radios"][0]["id"] == radio["id"]
    assert radios_api.delete_radio(store, radio["id"]) == {"deleted": True}
    with pytest.raises(UnknownRadio):
        radios_api.update_radio(store, radio["id"], {"temperature": 1})


def test_running_radios_replaces_each_playlist_and_reports_failures(store, lib):
    ok = radios_api.create_anchor(store, {"name": "Ok", "items": [{"id": "c0-t000"}, {"id": "c0-t001"}]})["anchor"]["id"]
    gone = radios_api.create_anchor(store, {"name": "Gone", "items": [{"id": "not-here"}]})["anchor"]["id"]
    down = radios_api.create_anchor(store, {"name": "Down", "items": [{"id": "c2-t000"}]})["anchor"]["id"]
    off = radios_api.create_anchor(store, {"name": "Off", "items": [{"id": "c3-t000"}]})["anchor"]["id"]
    radio = radios_api.create_radio(store, {"anchor_id": ok, "temperature": 0, "n_results": 10,
                                            "max_repeat_share": 0.5, "skip_played_days": 7})["radio"]
    for anchor_id in (gone, down):
        radios_api.create_radio(store, {"anchor_id": anchor_id, "temperature": 0, "n_results": 10})
    radios_api.create_radio(store, {"anchor_id": off, "temperature": 0, "n_results": 10, "enabled": False})
    writer = Writer(fail={"Down"})
    preview = radios_api.preview_radio(store, lib, radio["id"], now=NOW)
    history = [PlayRecord(preview["results"][0]["item_id"], 3, NOW - timedelta(days=1))]

    summary = radios_api.run_radios(store, lib, writer, history=history, now=NOW)
    assert {k: summary[k] for k in ("message", "radios_enabled", "playlists_created", "failed")} == {
        "message": "Created 1 radio playlist(s).", "radios_enabled": 3, "playlists_created": 1,
        "failed": ["Down", "Gone"]}
    first = writer.playlists["pl-1"][1]
    assert len(first) == 10 and preview["results"][0]["item_id"] not in first  # played yesterday

    radios_api.run_radios(store, lib, writer, now=NOW + timedelta(days=1), radio_ids=[radio["id"]])
    assert writer.calls[-1] == ("Ok", "pl-1")  # the same playlist, replaced in place
    second = writer.playlists["pl-1"][1]
    assert len(set(first) & set(second)) <= 5 and len(second) == 10
    again = radios_api.preview_radio(store, lib, radio["id"], now=NOW)
    assert again["radio"]["last_song_count"] == 10 and again["repeated"] <= 5
    assert sum(r["repeated"] for r in again["results"]) == again["repeated"]


def test_cron_routes(store):
    saved = cron_api.save_cron(store, {"name": "Nightly", "task_type": "analysis", "cron_expr": "0 3 * * *",
                                       "enabled": True, "options": {"num_recent_albums": 5}}, now=NOW)
    assert saved["message"] == "saved"
    # AudioMuse-AI's page re-posts its rows without ids: the row of that type and name is replaced
    again = cron_api.save_cron(store, {"name": "Nightly", "task_type": "analysis", "cron_expr": "30 4 * * *",
                                       "enabled": True}, now=NOW)
    assert again["id"] == saved["id"]
    # a disabled row may keep an empty expression, as that page sends it
    cron_api.save_cron(store, {"name": "Fingerprint", "task_type": "sonic_fingerprint", "cron_expr": "",
                               "enabled": False, "options": {"users": ["alice", "bob"]}}, now=NOW)
    rows = cron_api.list_cron(store, UTC, now=NOW)
    assert [(r["name"], r["task_type"], r["cron_expr"], r["enabled"]) for r in rows] == [
        ("Nightly", "analysis", "30 4 * * *", True), ("Fingerprint", "sonic_fingerprint", "", False)]
    assert set(rows[0]) >= {"id", "name", "task_type", "cron_expr", "enabled", "last_run", "created_at", "options"}
    assert rows[0]["last_run"] is None and rows[0]["next_run"] == datetime(2030, 1, 2, 4, 30, tzinfo=UTC).timestamp()
    for body, message in (({"task_type": "backup", "cron_expr": "* * * * *"}, "task_type"),
                          ({"task_type": "analysis", "cron_expr": "0 3 * * MON-", "enabled": True}, "not a valid"),
                          ({"task_type": "analysis", "cron_expr": "", "enabled": True}, "Enter a cron"),
                          ({"task_type": "analysis", "options": []}, "JSON object"),
                          ({"task_type": "alchemy_radio", "options": {"radio_ids": "all"}}, "radio_ids"),
                          ({"task_type": "sonic_fingerprint", "options": {"users": [""]}}, "users"),
                          ({"task_type": "clustering", "options": {"clustering_method": "nope"}}, "algorithm must be")):
        with pytest.raises(BadRequest, match=message):
            cron_api.save_cron(store, body)
    assert cron_api.delete_cron(store, saved["id"]) == {"deleted": True}
    with pytest.raises(UnknownSchedule):
        cron_api.delete_cron(store, saved["id"])


def test_schedule_command_line(tmp_path, capsys):
    from audiomuse_ray.cli import main

    db = ["--database-url", f"sqlite:///{tmp_path / 'a.db'}"]
    assert main(["schedule", "add", "analysis", "0 3 * * *", "--options", '{"num_recent_albums": 20}', *db]) == 0
    assert main([*db, "schedule", "add", "alchemy_radio", "*/30 * * * *", "--name", "radios", "--timezone", "UTC"]) == 0
    assert main(["schedule", "add", "analysis", "0 3 * *", *db]) == 1
    assert "needs 5 fields" in capsys.readouterr().err
    assert main(["schedule", "list", *db]) == 0
    out = capsys.readouterr().out
    assert "0 3 * * *" in out and "radios" in out and "2 schedules" in out
    assert main(["schedule", "remove", "1", *db]) == 0 and main(["schedule", "remove", "1", *db]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["schedule", "list", "--json", *db]) == 0
    assert '"task_type": "alchemy_radio"' in capsys.readouterr().out


def test_radio_runs_refresh_the_same_playlist_on_the_media_server(store, lib):
    """Through ``provider_writer``: a Subsonic server's playlist keeps its id while each run changes its songs."""
    from audiomuse_ray.providers.base import Album, Track
    from audiomuse_ray.providers.subsonic import SubsonicProvider
    from tests.fakes.music_servers import FakeLibrary, FakeSubsonic

    album = Album("al-1", "Everything", "Various")
    songs = FakeLibrary([album], {album.id: [Track(m.item_id, m.title, m.author, m.album, m.album_artist, "/x.flac")
                                             for m in lib.meta]})
    anchor = radios_api.create_anchor(store, {"name": "Fresh", "items": [{"id": "c1-t000"}]})["anchor"]["id"]
    radio = radios_api.create_radio(store, {"anchor_id": anchor, "temperature": 1.0, "n_results": 8,
                                            "max_repeat_share": 0.25})["radio"]
    with FakeSubsonic(songs) as server:
        writer = radios_api.provider_writer(store, SubsonicProvider(server.url, "admin", "secret", retries=0))
        runs, held_each_night = [], []
        for day in range(3):
            runs.append(radios_api.run_radios(store, lib, writer, now=NOW + timedelta(days=day),
                                              rng=np.random.default_rng(day)))
            held_each_night.append(list(next(iter(server.playlists.values()))[1]))
        ids = [r["radios"][0]["playlist_id"] for r in runs]
        assert all(len(set(a) & set(b)) <= 2 for a, b in zip(held_each_night, held_each_night[1:]))  # new songs
        assert len(set(ids)) == 1 and list(server.playlists) == ids[:1]  # one playlist, the same id each night
        name, held = server.playlists[ids[0]]
        assert name == "Fresh" and len(held) == 8 and radio["id"] == runs[-1]["radios"][0]["id"]
    assert radios_api.list_radios(store)["radios"][0]["provider_playlist_id"] == ids[0]

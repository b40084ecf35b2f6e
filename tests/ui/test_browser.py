"""The UI as a person uses it, in a real headless Chromium, served the way ``audiomuse-ray serve`` serves it:
the UI application at "/", the API at "/api" (routes declared as full paths), the chat routes at "/chat",
on the session's Serve over the analysed corpus. Screenshots of every tab go to test-artifacts/ui/.

The module works on a copy of the analysed database and a music folder that links the corpus's albums
plus one album not analysed yet, so the analysis it starts has work to cancel and the clustering it runs
writes playlists that no other test sees.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from audiomuse_ray.settings import Settings
from tests.conftest import wait_until_routed

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PREFIX = "uitest-"
EXTRA_ALBUM = ("Extra Artist", "Not Analysed Yet")
EXTRA_TRACKS = 10


def _copy_sqlite(url: str, dest: Path) -> None:
    src = sqlite3.connect(url.removeprefix("sqlite:///"))
    out = sqlite3.connect(dest)
    with out:
        src.backup(out)
    src.close()
    out.close()


def _music_folder(library: Path, root: Path) -> Path:
    """The corpus's album folders linked as they are (same relative paths, so the same item ids) and one
    more album of new music (not in the corpus, so nothing stored can stand in for its analysis: the job
    the test cancels is busy analysing for a while, whatever the machine's speed)."""
    import numpy as np
    import soundfile as sf

    music = root / "music"
    music.mkdir()
    for artist in sorted(p for p in library.iterdir() if p.is_dir()):
        (music / artist.name).symlink_to(artist, target_is_directory=True)
    extra = music.joinpath(*EXTRA_ALBUM)
    extra.mkdir(parents=True)
    rate, seconds = 22_050, 90
    t = np.arange(rate * seconds) / rate
    for k in range(EXTRA_TRACKS):
        rng = np.random.default_rng(k)
        notes = rng.choice([220.0, 246.9, 261.6, 293.7, 329.6, 392.0, 440.0], size=4)
        beat = (np.sin(2 * np.pi * (1.5 + k / 4) * t) > 0.6).astype(np.float32)
        audio = sum(np.sin(2 * np.pi * f * t) for f in notes) / 8 + 0.05 * beat * rng.standard_normal(t.size)
        sf.write(extra / f"{k + 1:02d} Extra Song {k + 1}.flac", audio.astype(np.float32), rate)
    return music


@pytest.fixture(scope="module")
def site(analysed_corpus, serve_base, corpus, tmp_path_factory):
    from ray import serve

    from audiomuse_ray.serve.layout import applications

    settings, _store, _summary = analysed_corpus
    root = tmp_path_factory.mktemp("ui")
    data = root / "data"
    data.mkdir()
    _copy_sqlite(settings.database_url, data / "audiomuse.db")
    ui_settings = Settings.load({}, data_dir=str(data), music_dir=str(_music_folder(corpus / "library", root)),
                                models_dir=settings.models_dir, task_stale_s=60.0)
    apps = applications(ui_settings, replicas=1, reload_interval_s=2.0, api_url=serve_base, api_cpus=0)
    for app in apps:
        serve.run(app.app, name=PREFIX + app.name, route_prefix=app.route_prefix)
    wait_until_routed(serve_base + "/api/health")
    wait_until_routed(serve_base + "/")
    yield serve_base, ui_settings
    for app in apps:  # each drains for up to 30 s behind HAProxy: let them drain together
        serve.delete(PREFIX + app.name, _blocking=False)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(PREFIX + a.name in serve.status().applications for a in apps):
        time.sleep(0.5)


@pytest.fixture
def page(browser, site, artifacts, request):
    url, _settings = site
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.goto(url + "/")
    pg.get_by_role("tab", name="Analysis").wait_for()
    yield pg
    pg.screenshot(path=str(artifacts / f"last-{request.node.name}.png"), full_page=True)  # for a failure
    context.close()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def pick_song(page, box_label: str, typed: str, option: str, nth: int = 0) -> None:
    """Type into a song box until the suggestion appears (a first keystroke may reach a page whose
    events are still being bound), then choose it."""
    box = page.get_by_role("combobox", name=box_label).nth(nth)
    choice = page.get_by_role("option", name=option).first
    for _attempt in range(3):
        box.click()
        box.fill("")
        box.press_sequentially(typed, delay=40)
        try:
            choice.wait_for(timeout=10_000)
            break
        except Exception:  # noqa: BLE001  (retyped below; the last attempt's click raises)
            continue
    choice.click()


def shot(page, artifacts: Path, name: str) -> None:
    time.sleep(0.5)  # let plots and fonts settle
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def table_cells(page, scope: str = "") -> list[str]:
    return page.locator(f"{scope} .song-table [role=gridcell]").all_inner_texts()


# ------------------------------------------------------------------------------------ layout, over HTTP
def test_one_host_serves_the_page_the_api_and_the_chat_routes(site):
    url, _settings = site
    page = requests.get(url + "/", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]  # the plugins' GET / check
    health = requests.get(url + "/api/health", timeout=30).json()
    assert health["status"] == "ok" and health["index_version"] is not None and health["writes"] == "open"
    # routes declared as "/api/…" match under the "/api" prefix (the middleware clears Serve's root_path)
    rows = requests.get(url + "/api/search_tracks", params={"search_query": "neuronal"}, timeout=30).json()
    assert [r["title"] for r in rows] == ["neuronal diving"]
    assert requests.get(url + "/api/docs", timeout=30).status_code == 200
    # "/chat/…" reaches the API code (a JSON answer), never the UI's HTML
    chat = requests.get(url + "/chat/api/config_defaults", timeout=30)
    assert chat.headers["content-type"].startswith("application/json")
    assert chat.status_code == 200 or "error" in chat.json()
    preview = requests.get(url + f"/api/preview/{rows[0]['item_id']}", params={"seconds": 5}, timeout=60)
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/ogg"
    assert preview.content[:4] == b"OggS" and 5_000 < len(preview.content) < 400_000


# ------------------------------------------------------------------------------------ in the browser
def test_similar_songs_search_play_and_save_a_playlist(page, site, artifacts):
    _url, settings = site
    open_tab(page, "Similar songs")
    pick_song(page, "Song", "neuro", "neuronal diving — Nexuiz")
    page.locator("#similar-find").click()
    page.get_by_text("songs like that one").wait_for()
    cells = table_cells(page)
    assert len(cells) == 10 * 6 and "neuronal diving" not in cells[1::6]  # ten neighbours, never the seed
    distances = [float(c) for c in cells[4::6]]
    assert all(0 < d < 1 for d in distances)
    # play: selecting a row loads its preview into the player, which plays in the browser
    page.locator(".song-table [role=gridcell]").nth(1).click()
    audio = page.locator(".preview audio[src^=blob]")
    audio.wait_for(state="attached")
    page.wait_for_timeout(1500)
    state = audio.evaluate("a => ({ready: a.readyState, duration: a.duration, t: a.currentTime, error: a.error})")
    assert state["error"] is None and state["ready"] >= 2 and 25 < state["duration"] <= 31 and state["t"] > 0.3, state
    shot(page, artifacts, "similar-songs")
    # save them as a playlist on the local provider
    page.get_by_label("Playlist name").first.fill("UI test similar")
    page.get_by_role("button", name="Create playlist").first.click()
    page.get_by_text("created successfully").wait_for()
    m3u = Path(settings.playlist_dir) / "UI test similar.m3u8"
    assert m3u.exists()
    listed = [line for line in m3u.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert len(listed) == 10


def test_analysis_starts_shows_progress_and_cancels(page, artifacts):
    open_tab(page, "Analysis")
    page.locator("#analysis-start").click()
    page.get_by_text("Analysis started").wait_for()
    task_id = re.search(r"Analysis started \(task (\w+)\)", page.locator("#analysis-status").inner_text()).group(1)
    panel = page.locator("#analysis-progress")
    panel.locator("[data-state=PENDING], [data-state=STARTED], [data-state=PROGRESS]").wait_for(timeout=60_000)
    page.locator("#analysis-cancel").click()
    page.locator("#analysis-status").get_by_text(re.compile("Cancellation requested|revoked|Nothing to cancel")).wait_for()
    panel.locator("[data-state=REVOKED]").wait_for(timeout=60_000)  # the poll shows it without a reload
    shot(page, artifacts, "analysis")
    # the finished job stays in the Tasks tab's list of recent jobs (GET /api/tasks), with its state
    open_tab(page, "Tasks")
    row = page.locator(f"#tasks-recent tr[data-task-id^='{task_id}'][data-state=REVOKED]")
    row.wait_for()
    assert "analysis" in row.inner_text() and "REVOKED" in row.inner_text()


def test_a_small_clustering_runs_to_playlists_with_its_score_plot(page, site, artifacts):
    _url, settings = site
    open_tab(page, "Clustering")
    page.locator("#clustering-runs input").fill("30")
    page.locator("#clustering-start").click()
    started = page.get_by_text("Clustering started")
    started.wait_for()
    task = re.search(r"task (\w+)", started.inner_text()).group(1)
    # the panel shows the previous clustering (and its playlists) until this one's first poll
    page.locator("#clustering-progress [data-state=SUCCESS]", has_text=task).wait_for(timeout=180_000)
    found = page.locator("#clustering-playlists [role=gridcell]")
    found.first.wait_for(timeout=30_000)
    names = found.all_inner_texts()[0::3]
    assert names and all(n.endswith("_automatic") for n in names)
    assert all((Path(settings.playlist_dir) / f"{n}.m3u8").exists() for n in names)
    # the curve comes from the job's own record of improvements, not from the page's 2 s polls (a 30-run
    # search ends between two of them): its first point and one at the final run count at least
    points = page.locator("#clustering-plot .scatterlayer .point")
    deadline = time.monotonic() + 15
    while points.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert points.count() >= 2
    shot(page, artifacts, "clustering")


def test_music_map_draws_and_a_region_becomes_a_table(page, artifacts):
    open_tab(page, "Music map")
    page.locator("#map-draw").click()
    page.locator("#map-status").get_by_text("songs (").wait_for()
    page.locator("#map-plot .js-plotly-plot canvas, #map-plot .js-plotly-plot .scatterlayer").first.wait_for()
    page.get_by_role("button", name="Take the songs in this region").click()
    page.locator("#map-status").get_by_text("in the region").wait_for()
    count = int(re.search(r"(\d+) songs in the region", page.locator("#map-status").inner_text()).group(1))
    # play, title, artist, album, item id: a region has no seed, so no distance column
    assert len(page.locator("#map-region-table [role=gridcell]").all_inner_texts()) == count * 5
    shot(page, artifacts, "music-map")


def test_every_other_tab_works_or_says_why_not(page, artifacts):
    open_tab(page, "Song path")
    pick_song(page, "From", "neuro", "neuronal diving — Nexuiz")
    pick_song(page, "To", "aberr", "Aberrations")
    page.locator("#path-find").click()
    page.get_by_text(re.compile(r"\d+ songs, total distance")).wait_for()
    shot(page, artifacts, "song-path")

    open_tab(page, "Song alchemy")
    pick_song(page, "Add", "neuro", "neuronal diving — Nexuiz")
    pick_song(page, "Subtract", "aberr", "Aberrations")
    page.locator("#alchemy-run").click()
    page.get_by_text("filtered out.").wait_for()
    shot(page, artifacts, "song-alchemy")

    open_tab(page, "Sonic fingerprint")
    page.locator("#fingerprint-run").click()
    page.get_by_text("Problem:").first.wait_for()  # a music folder keeps no listening history: said so
    shot(page, artifacts, "sonic-fingerprint")

    open_tab(page, "Instant playlist")
    page.get_by_text("Language model").click()  # the accordion: the offline keyword mode needs no model
    provider = page.get_by_role("combobox", name="Provider")
    provider.click()
    page.get_by_role("option", name="KEYWORDS").click()
    page.locator("#chat-input textarea").fill("calm ambient music")
    page.locator("#chat-run").click()
    status = page.locator("#chat-status").get_by_text(re.compile(r"\d+ songs \(KEYWORDS|Problem:"))
    status.wait_for(timeout=60_000)
    found = int(re.match(r"(\d+) songs \(KEYWORDS", status.inner_text()).group(1))
    assert 0 < found <= 25
    cells = page.locator("#chat-songs [role=gridcell]").all_inner_texts()
    # rows with titles and item ids (a long table renders only the rows in view)
    # play, title, artist, album, item id: a query's songs have no distance to show
    assert cells and len(cells) % 5 == 0 and len(cells) <= found * 5 and all(cells[1::5]) and all(cells[4::5])
    assert "SELECT" in page.locator("#chat-query").inner_text() and "LIMIT" in page.locator("#chat-query").inner_text()
    shot(page, artifacts, "instant-playlist")

    open_tab(page, "Playlists")
    page.locator("#playlists-refresh").click()
    page.get_by_text(re.compile(r"\d+ playlists\.")).wait_for()
    shot(page, artifacts, "playlists")

    open_tab(page, "Tasks")
    page.locator("#tasks-recent tr[data-state]").first.wait_for()
    assert page.locator("#tasks-log textarea").input_value().strip()
    shot(page, artifacts, "tasks")


def test_named_endpoints_answer_gradio_client(site):
    from gradio_client import Client

    url, _settings = site
    client = Client(url + "/", verbose=False)
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/similar_songs", "/song_path", "/song_alchemy", "/sonic_fingerprint", "/music_map", "/playlists",
            "/start_analysis", "/cancel_analysis", "/start_clustering", "/cancel_clustering", "/cancel_job",
            "/instant_playlist", "/server_state"} <= names
    ids = {r["title"]: r["item_id"] for r in requests.get(url + "/api/search_tracks",
                                                          params={"search_query": "nexuiz", "end": 50}, timeout=30).json()}
    status, table = client.predict(ids["neuronal diving"], 5, True, False, True, api_name="/similar_songs")
    assert "5 songs like that one" in status and len(table["data"]) == 5
    status, _plot, table = client.predict(ids["neuronal diving"], ids["subcities"], 6, api_name="/song_path")
    assert "songs, total distance" in status and table["data"][0][5] == ids["neuronal diving"]
    status, _plot = client.predict(50, "top tag", -1, 1, -1, 1, api_name="/music_map")  # (State stays server-side)
    assert re.search(r"\d+ songs", status)
    assert client.predict(api_name="/server_state") == ""  # index loaded, writes open on loopback
    status, *_ = client.predict(api_name="/playlists")
    assert re.search(r"\d+ playlists", status)


def cell(page, table: str, text: str):
    """The visible cell of a Gradio table holding ``text`` (the table also keeps hidden copies to measure)."""
    return page.locator(f'{table} [data-testid^="cell-"]', has_text=text).first


def choose(page, label: str, option) -> None:
    """Pick ``option`` (text or pattern) in the dropdown labelled ``label``."""
    page.get_by_role("combobox", name=label).first.click()
    page.get_by_role("option", name=option).first.click()


def test_radios_schedules_and_the_library(page, site, artifacts):
    """Save a mix as an anchor in Song alchemy, make it a radio, preview and run it (twice: the same playlist
    on the media server); add a schedule, switch it off and on, see the run one scheduler pass started; the
    Library tab's numbers and plots."""
    from datetime import datetime, timedelta, timezone

    from audiomuse_ray.schedule import cron
    from audiomuse_ray.schedule.jobs import default_provider_factory, make_starter
    from audiomuse_ray.schedule.tick import run_due
    from audiomuse_ray.store import open_store
    from audiomuse_ray.store import schedules as schedule_store

    url, settings = site
    open_tab(page, "Song alchemy")
    pick_song(page, "Add", "neuro", "neuronal diving — Nexuiz")
    page.locator("#alchemy-anchor-name textarea, #alchemy-anchor-name input").first.fill("Arena mix")
    page.locator("#alchemy-anchor-save").click()
    page.get_by_text("Anchor “Arena mix” saved").wait_for()

    open_tab(page, "Radios")
    cell(page, "#anchors-table", "Arena mix").wait_for()
    choose(page, "Anchor", re.compile(r"Arena mix \(#\d+\)"))
    page.locator("#radio-save").click()
    page.get_by_text("Radio “Arena mix” saved").wait_for()
    choose(page, "Radio", re.compile(r"Arena mix \(#\d+\)"))
    page.locator("#radio-preview").click()
    page.get_by_text(re.compile(r"Next playlist of “Arena mix”: 25 songs would play")).wait_for()
    assert len(page.locator("#radio-songs [role=gridcell]").all_inner_texts()) >= 6
    shot(page, artifacts, "radios-preview")
    page.locator("#radio-run").click()
    page.locator("#radios-status").get_by_text("Created 1 radio playlist(s).").wait_for(timeout=60_000)
    first = requests.get(url + "/api/radios", timeout=30).json()["radios"][0]
    page.locator("#radio-run").click()
    page.locator("#radios-status").get_by_text(re.compile(r"kept from the last run")).wait_for(timeout=60_000)
    assert page.locator("#radio-songs [role=gridcell]").count() == 0  # the preview is stale after a run: cleared
    again = requests.get(url + "/api/radios", timeout=30).json()["radios"][0]
    assert again["provider_playlist_id"] == first["provider_playlist_id"] and again["last_song_count"] == 25
    playlists = list(Path(settings.playlist_dir).glob("*.m3u8"))
    assert ["#PLAYLIST:Arena mix" in p.read_text() for p in playlists].count(True) == 1  # one file, rewritten
    cell(page, "#radios-table", again["provider_playlist_id"]).wait_for()
    shot(page, artifacts, "radios")

    open_tab(page, "Schedules")
    page.locator("#schedule-name input, #schedule-name textarea").first.fill("Nightly radios")
    choose(page, "Job", "Radios (every enabled one)")
    page.locator("#schedule-cron input, #schedule-cron textarea").first.fill("0 4 * * *")
    page.locator("#schedule-save").click()
    page.get_by_text(re.compile(r"Schedule #\d+ saved")).wait_for()
    choose(page, "Schedule", re.compile(r"Nightly radios"))
    page.locator("#schedule-toggle").click()
    page.get_by_text("“Nightly radios” is off").wait_for()
    page.locator("#schedule-toggle").click()
    page.get_by_text("“Nightly radios” is on").wait_for()
    store = open_store(settings.database_url)  # an hourly row saved two hours ago, and one scheduler pass now
    try:
        now = datetime.now(timezone.utc)
        schedule_store.save_schedule(store, None, name="Hourly radios", task_type="alchemy_radio",
                                     cron_expr="0 * * * *", enabled=True, options={}, now=now - timedelta(hours=2))
        outcomes = run_due(store, now, make_starter(settings, store, default_provider_factory),
                           tz=cron.zone(settings.timezone), claimed_by="ui-test")
        assert [(o.task_type, o.status) for o in outcomes] == [("alchemy_radio", "STARTED")]  # not the 04:00 row
    finally:
        store.dispose()
    page.locator("#schedules-refresh").click()
    cell(page, "#schedule-runs", "Hourly radios").wait_for()
    cell(page, "#schedules-table", "0 4 * * *").wait_for()
    shot(page, artifacts, "schedules")

    open_tab(page, "Library")
    page.locator("#library-stats").wait_for()
    for plot in ("#library-moods", "#library-tempo", "#library-keys", "#library-per-day"):
        page.locator(f"{plot} .js-plotly-plot .barlayer").first.wait_for()
    numbers = page.locator("#library-stats .amr-stat b").all_inner_texts()
    summary = requests.get(url + "/api/dashboard/summary", timeout=30).json()
    assert numbers[0] == f"{summary['analysis']['analysed']:,}" and summary["analysis"]["analysed"] > 0
    assert page.locator("#library-moods .bars path").count() == 6  # one bar per mood
    shot(page, artifacts, "library")


def test_collection_needs_consent_then_syncs_with_a_hub(page, site, artifacts, tmp_path):
    """The Collection tab states what is shared, refuses to start before the consent tick, keeps the consent,
    and follows a sync with a hub (the service's own hub routes on loopback) to its end."""
    from audiomuse_ray.store import hub as hub_store
    from audiomuse_ray.store import open_store
    from tests.collection.hub_server import HubServer
    from tests.conftest import REPO

    url, _settings = site
    hub_settings = Settings.load({"AUDIOMUSE_HUB_TOKENS": "ui-test:ui-test-hub-token"}, data_dir=str(tmp_path),
                                 models_dir=str(REPO / "models"))
    hub_db = open_store(hub_settings.database_url)
    try:
        with HubServer(hub_settings, hub_db) as hub:
            open_tab(page, "Collection")
            page.locator("#collection-statement").get_by_text("What a sync shares").wait_for()
            for words in ("fingerprint", "embedding", "Never shared", "file paths", "media-server ids"):
                assert words in page.locator("#collection-statement").inner_text(), words
            page.locator("#collection-url input, #collection-url textarea").first.fill(hub.url)
            page.locator("#collection-token input").fill("ui-test-hub-token")
            page.locator("#collection-start").click()
            page.locator("#collection-status").get_by_text("Tick the consent box first").wait_for()
            assert requests.get(url + "/api/collection/last_task", timeout=30).json()["status"] == "NO_PREVIOUS_TASK"
            page.locator("#collection-consent input[type=checkbox]").check()
            page.locator("#collection-consent-note").get_by_text("Consent given on").wait_for()
            assert requests.get(url + "/api/collection/consent", timeout=30).json()["consented"] is True
            page.locator("#collection-start").click()
            page.get_by_text("Sync started").wait_for()
            page.locator("#collection-progress [data-state=SUCCESS]").wait_for(timeout=240_000)
            assert "pushed" in page.locator("#collection-progress").inner_text()
            shot(page, artifacts, "collection")
        assert hub_store.contributors(hub_db).get("ui-test", 0) >= 60  # the analysed corpus, shared
    finally:
        hub_db.dispose()
    page.reload()  # the consent is remembered by the server
    open_tab(page, "Collection")
    page.locator("#collection-consent-note").get_by_text("Consent given on").wait_for()
    assert page.locator("#collection-consent input[type=checkbox]").is_checked()


def test_the_api_documentation_renders(browser, site, artifacts):
    """/api/docs in Chromium with no network beyond this host: Swagger UI from the server's own files lists
    the routes with their parameters."""
    url, _settings = site
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(url + "/api/docs")
    page.locator(".swagger-ui .info .title").get_by_text("audiomuse-ray").wait_for()
    page.locator(".opblock-summary-path", has_text="/api/similar_tracks").first.click()
    page.locator(".parameters-col_name", has_text="eliminate_duplicates").first.wait_for()
    assert page.locator(".opblock").count() >= 40
    shot(page, artifacts, "api-docs")
    context.close()
    assert failed == []

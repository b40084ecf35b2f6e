"""The token login in a real headless Chromium: the three-application layout served with
``AUDIOMUSE_API_TOKEN`` set, on the session's Serve over a copy of the analysed corpus. The page asks for a
login first, refuses a wrong token, lets the right one in, and the tabs then reach the API, which itself
refuses callers without the token: so the UI must be sending it as ``Authorization: Bearer``."""

from __future__ import annotations

import time

import pytest
import requests

from audiomuse_ray.settings import Settings
from tests.conftest import wait_until_routed
from tests.ui.test_browser import _copy_sqlite, open_tab, pick_song, table_cells

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PREFIX = "uilogin-"
TOKEN = "ui-login-t0ken"


@pytest.fixture(scope="module")
def site(analysed_corpus, serve_base, tmp_path_factory):
    from ray import serve

    from audiomuse_ray.serve.layout import applications

    settings, _store, _summary = analysed_corpus
    data = tmp_path_factory.mktemp("ui-login") / "data"
    data.mkdir()
    _copy_sqlite(settings.database_url, data / "audiomuse.db")
    token_settings = Settings.load({}, data_dir=str(data), music_dir=settings.music_dir,
                                   models_dir=settings.models_dir, api_token=TOKEN)
    apps = applications(token_settings, replicas=1, reload_interval_s=60.0, api_url=serve_base, api_cpus=0)
    for app in apps:
        serve.run(app.app, name=PREFIX + app.name, route_prefix=app.route_prefix)
    wait_until_routed(serve_base + "/api/health")
    wait_until_routed(serve_base + "/")
    yield serve_base
    for app in apps:
        serve.delete(PREFIX + app.name, _blocking=False)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(PREFIX + a.name in serve.status().applications for a in apps):
        time.sleep(0.5)


@pytest.fixture
def page(browser, site, artifacts, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    pg.screenshot(path=str(artifacts / f"last-{request.node.name}.png"), full_page=True)  # for a failure
    context.close()


def log_in(page, url: str, password: str) -> None:
    page.goto(url + "/")
    page.get_by_label("username").fill("someone")
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()


def test_the_api_wants_the_token(site):
    assert requests.get(site + "/api/search_tracks", params={"search_query": "neuro"}, timeout=30).status_code == 401
    ok = requests.get(site + "/api/search_tracks", params={"search_query": "neuro"}, timeout=30,
                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and [r["title"] for r in ok.json()] == ["neuronal diving"]
    assert requests.get(site + "/api/health", timeout=30).json()["writes"] == "token"
    assert requests.get(site + "/", timeout=30).status_code == 200  # the plugins' GET / check: the login page


def test_a_wrong_token_is_refused_and_the_right_one_logs_in(page, site, artifacts):
    page.goto(site + "/")
    page.get_by_label("password").wait_for()
    page.get_by_text("audiomuse-ray: log in with any user name").wait_for()  # names the service, says what to type
    assert page.get_by_role("tab", name="Similar songs").count() == 0
    time.sleep(0.5)
    page.screenshot(path=str(artifacts / "login.png"), full_page=True)

    log_in(page, site, "not-the-token")
    page.get_by_text("Incorrect Credentials").wait_for()
    assert page.get_by_role("tab", name="Similar songs").count() == 0

    log_in(page, site, TOKEN)
    page.get_by_role("tab", name="Similar songs").wait_for()
    # a tab whose calls need the token: search (autocomplete) and the neighbours of the chosen song
    open_tab(page, "Similar songs")
    pick_song(page, "Song", "neuro", "neuronal diving — Nexuiz")
    page.locator("#similar-find").click()
    page.get_by_text("songs like that one").wait_for()
    cells = table_cells(page)
    assert len(cells) == 10 * 6 and "neuronal diving" not in cells[1::6]
    assert page.get_by_text("Problem:").count() == 0
    # the poll reaches the token-guarded task routes too
    open_tab(page, "Tasks")
    page.locator("#tasks-active").get_by_text("No job is running.").wait_for()

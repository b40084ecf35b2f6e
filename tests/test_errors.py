"""Error types carry their HTTP status; request values that are not numbers are 400s; a remote provider
without its settings is a configuration error naming the variables, raised before any HTTP call."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audiomuse_ray import errors
from audiomuse_ray.api import params
from audiomuse_ray.errors import AudioMuseError, ConfigurationError, http_status
from audiomuse_ray.providers import check_provider_settings, make_provider
from audiomuse_ray.settings import Settings

PACKAGE = Path(errors.__file__).parent

EXPECTED = {
    "BadRequest": 400, "HistoryUnsupported": 400, "UnknownTrack": 404, "ConfigurationError": 503,
    "IndexNotBuilt": 503, "StoreError": 503, "ModelNotBuilt": 503, "ProviderError": 502,
    "ProviderUnavailable": 502, "ProviderAuthError": 502, "ProviderRequestError": 502, "LLMError": 502,
}


def error_classes() -> list[type[AudioMuseError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, AudioMuseError) and c is not AudioMuseError]


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_states_its_own_status(cls):
    # its own, not one inherited by accident: HistoryUnsupported is a ProviderError but a 400
    assert "http_status" in vars(cls), f"{cls.__name__} does not say which HTTP status it is answered with"
    assert 400 <= cls.http_status <= 599
    assert http_status(cls("x")) == cls.http_status


def test_the_statuses_the_plugins_rely_on():
    assert {name: getattr(errors, name).http_status for name in EXPECTED} == EXPECTED


def test_anything_else_is_an_internal_error():
    assert http_status(RuntimeError("bug")) == 500
    assert http_status(ValueError("not a BadRequest")) == 500
    assert http_status(AudioMuseError("no subclass")) == 500


def subclasses_in_source() -> dict[str, tuple[Path, ast.ClassDef]]:
    """Every class anywhere in the package that derives, by name, from AudioMuseError: read from the
    source, so a subclass in a module nobody imported here is still found."""
    classes = [(path, node) for path in PACKAGE.rglob("*.py")
               for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)]

    def base_names(node: ast.ClassDef) -> set[str]:
        return {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, (ast.Name, ast.Attribute))}

    found: dict[str, tuple[Path, ast.ClassDef]] = {}
    names = {"AudioMuseError"}
    while True:
        new = {n.name: (p, n) for p, n in classes if n.name not in names and base_names(n) & names}
        if not new:
            return found
        found.update(new)
        names |= set(new)


def test_a_new_subclass_anywhere_in_the_package_must_name_its_status():
    found = subclasses_in_source()
    assert {"BadRequest", "LLMError", "HistoryUnsupported", "UnknownTrack"} <= set(found)
    lacking = [f"{p.relative_to(PACKAGE)}:{n.name}" for p, n in found.values()
               if not any(isinstance(s, (ast.Assign, ast.AnnAssign)) and "http_status" in ast.dump(s) for s in n.body)]
    assert lacking == []


def test_bad_request_and_llm_error_are_part_of_the_hierarchy():
    from audiomuse_ray.llm.client import LLMError

    assert params.BadRequest is errors.BadRequest and issubclass(params.BadRequest, ValueError)
    assert issubclass(LLMError, AudioMuseError) and LLMError.http_status == 502


@pytest.mark.parametrize("raw", ["abc", "", "nan", "inf", "-Infinity", [1], {"a": 1}, True, "1e999", 10 ** 400])
def test_a_value_that_is_not_a_finite_number_is_a_bad_request(raw):
    if raw == "":
        assert params.number({"t": raw}, "t", 1.5) == 1.5  # empty means "not given"
        return
    with pytest.raises(errors.BadRequest, match="'t' must be"):
        params.number({"t": raw}, "t", 1.0)


def test_numbers_parse_and_respect_bounds():
    assert params.number({"t": " 0.25 "}, "t", None) == 0.25 and params.number({"t": 3}, "t", None) == 3.0
    with pytest.raises(errors.BadRequest, match="at least 0"):
        params.number({"d": -0.1}, "d", None, lo=0.0)


@pytest.mark.parametrize("raw, expected", [("7", 7), (7.0, 7), (" 12 ", 12), (5000, 100), (-3, 1)])
def test_integers_are_forgiving_but_clamped(raw, expected):
    assert params.integer({"n": raw}, "n", None, lo=1, hi=100) == expected


@pytest.mark.parametrize("raw", ["ten", 7.5, "7.5", True, [3]])
def test_an_integer_that_is_not_one_is_a_bad_request(raw):
    with pytest.raises(errors.BadRequest, match="'n' must be a valid integer"):
        params.integer({"n": raw}, "n", 1)


@pytest.mark.parametrize("provider, given, missing", [
    ("subsonic", {"subsonic_user": "me"}, ["AUDIOMUSE_SUBSONIC_URL"]),
    ("subsonic", {}, ["AUDIOMUSE_SUBSONIC_URL", "AUDIOMUSE_SUBSONIC_USER"]),
    ("jellyfin", {"jellyfin_url": "http://jf:8096"},
     ["AUDIOMUSE_JELLYFIN_USER_ID", "AUDIOMUSE_JELLYFIN_TOKEN"]),
    ("lyrion", {"lyrion_url": "  "}, ["AUDIOMUSE_LYRION_URL"]),
])
def test_a_remote_provider_without_its_settings_names_what_to_set(provider, given, missing):
    settings = Settings.load({}, provider=provider, **given)
    with pytest.raises(ConfigurationError) as caught:
        make_provider(settings)  # ConfigurationError, not the constructors' ProviderRequestError: checked first
    message = str(caught.value)
    assert message.startswith(f"AUDIOMUSE_PROVIDER={provider} needs ")
    assert re.findall(r"AUDIOMUSE_[A-Z_]+", message)[1:] == missing  # only what is missing, in order
    assert caught.value.http_status == 503


def test_a_configured_remote_provider_is_made_without_calling_it():
    settings = Settings.load({}, provider="jellyfin", jellyfin_url="http://127.0.0.1:9", jellyfin_user_id="u",
                             jellyfin_token="k", http_retries=0)
    check_provider_settings(settings)
    assert make_provider(settings).name == "jellyfin"


def test_the_http_edge_answers_each_error_with_its_status_and_a_message():
    """The API's error handlers on a plain FastAPI app."""
    from audiomuse_ray.serve.http_app import _typed_error, _unexpected_error

    app = FastAPI()
    app.add_exception_handler(AudioMuseError, _typed_error)
    app.add_exception_handler(Exception, _unexpected_error)
    raised = {"bad": errors.BadRequest("Parameter 'n' must be a valid integer."),
              "config": ConfigurationError("AUDIOMUSE_PROVIDER=subsonic needs AUDIOMUSE_SUBSONIC_URL"),
              "missing": errors.UnknownTrack("Track 'x' is not in the analysed library."),
              "bug": KeyError("postgresql://user:secret@db")}

    @app.get("/{what}")
    def fail(what: str):
        raise raised[what]

    client = TestClient(app, raise_server_exceptions=False)
    for what, status in (("bad", 400), ("config", 503), ("missing", 404)):
        res = client.get(f"/{what}")
        assert (res.status_code, res.json()) == (status, {"error": str(raised[what])})
    bug = client.get("/bug")
    assert bug.status_code == 500 and "KeyError" in bug.json()["error"] and "secret" not in bug.text

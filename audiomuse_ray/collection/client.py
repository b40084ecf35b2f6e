"""The HTTP client of a collection hub: timeouts, a few retries for a hub that blinks, and every failure
as a typed error with a sentence (a wrong token, a hub of another model version, a hub that is gone).

The token travels only in the ``Authorization`` header and never appears in a message.
"""

from __future__ import annotations

import time
from typing import Sequence
from urllib.parse import urlsplit

import requests

from audiomuse_ray.collection.hub import (
    HubInfo, LookupRequest, LookupResponse, PushRequest, PushResponse, PushResult,
)
from audiomuse_ray.recording.identity import TagQuery
from audiomuse_ray.recording.records import RECORD_SCHEMA, SharedAnalysis
from audiomuse_ray.errors import BadRequest, HubAuthError, HubError, HubModelMismatch, HubUnavailable

API = "/api/collection/hub"
RETRY_STATUSES = (502, 503, 504)
RESUME = "What was synced so far is kept; run the sync again to continue."


class HubClient:
    """``HubClient(url, token).info()``, ``.lookup(version, queries)``, ``.push(version, records)``."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 30.0, retries: int = 2,
                 session: requests.Session | None = None):
        parts = urlsplit((url or "").strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadRequest(f"The hub URL {url!r} is not an http:// or https:// address.")
        if not token:
            raise HubAuthError("A hub token is needed: ask whoever runs the hub for one.")
        self.url = url.strip().rstrip("/")
        self.token, self.timeout_s, self.retries = token, timeout_s, retries
        self.session = session or requests.Session()
        self.session.trust_env = False  # no .netrc credentials or proxy settings sent to a hub by surprise
        self.max_batch = 100

    # --------------------------------------------------------------------------------- calls
    def info(self) -> HubInfo:
        info = self._parse(HubInfo.from_json, self._call("GET", "/info"))
        if info.schema_version > RECORD_SCHEMA:
            raise HubError(f"The hub at {self.url} speaks record schema {info.schema_version}; this audiomuse-ray "
                           f"reads up to {RECORD_SCHEMA}. Upgrade audiomuse-ray to sync with it.")
        self.max_batch = max(1, min(self.max_batch, info.max_batch))
        return info

    def check(self, model_version: str) -> HubInfo:
        """The hub's info, refused with a sentence when it shares another model version than ours."""
        info = self.info()
        if info.model_version != model_version:
            raise HubModelMismatch(
                f"The hub at {self.url} shares analyses of model version {info.model_version}; this instance "
                f"analyses with {model_version}. Their analyses cannot be mixed: sync with a hub that runs "
                "the same models, or upgrade the older of the two.")
        return info

    def lookup(self, model_version: str, queries: Sequence[TagQuery]) -> list[list[SharedAnalysis]]:
        out: list[list[SharedAnalysis]] = []
        for start in range(0, len(queries), self.max_batch):
            chunk = list(queries[start:start + self.max_batch])
            data = self._call("POST", "/lookup", LookupRequest(model_version, chunk).to_json())
            answer = self._parse(LookupResponse.from_json, data)
            if len(answer.results) != len(chunk):
                raise HubUnavailable(f"The hub at {self.url} answered {len(answer.results)} results for "
                                     f"{len(chunk)} queries. {RESUME}")
            out.extend(answer.results)
        return out

    def push(self, model_version: str, records: Sequence[SharedAnalysis]) -> list[PushResult]:
        out: list[PushResult] = []
        for start in range(0, len(records), self.max_batch):
            chunk = list(records[start:start + self.max_batch])
            data = self._call("POST", "/push", PushRequest(model_version, chunk).to_json())
            answer = self._parse(PushResponse.from_json, data)
            if len(answer.results) != len(chunk):
                raise HubUnavailable(f"The hub at {self.url} answered {len(answer.results)} results for "
                                     f"{len(chunk)} records. {RESUME}")
            out.extend(answer.results)
        return out

    # --------------------------------------------------------------------------------- transport
    def _parse(self, parser, data):
        try:
            return parser(data)
        except BadRequest as exc:
            raise HubUnavailable(f"The hub at {self.url} answered something unexpected ({exc}). {RESUME}") from None

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        url = f"{self.url}{API}{path}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        for attempt in range(self.retries + 1):
            try:
                resp = self.session.request(method, url, json=body, headers=headers, timeout=self.timeout_s,
                                            allow_redirects=False)
            except requests.RequestException as exc:
                if attempt < self.retries:
                    time.sleep(0.5 * 2 ** attempt)
                    continue
                raise HubUnavailable(f"The hub at {self.url} did not answer ({type(exc).__name__}). Check the "
                                     f"URL and that the hub runs. {RESUME}") from None
            if resp.status_code in RETRY_STATUSES and attempt < self.retries:
                time.sleep(0.5 * 2 ** attempt)
                continue
            return self._answer(resp)
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer(self, resp: requests.Response) -> dict:
        message = _error_message(resp)
        if resp.status_code in (401, 403):
            raise HubAuthError(f"The hub at {self.url} refused the token ({message or resp.status_code}). "
                               "Check the token with whoever runs the hub.")
        if resp.status_code == 409:
            raise HubModelMismatch(message or f"The hub at {self.url} refused analyses of this model version.")
        if resp.status_code == 404:
            raise HubUnavailable(f"{self.url} has no collection hub at {API} (HTTP 404): is it an audiomuse-ray "
                                 "instance with AUDIOMUSE_HUB_TOKENS set?")
        if resp.status_code >= 500:
            raise HubUnavailable(f"The hub at {self.url} failed (HTTP {resp.status_code}"
                                 + (f": {message}" if message else "") + f"). {RESUME}")
        if resp.status_code >= 400:
            raise HubError(f"The hub at {self.url} answered HTTP {resp.status_code}"
                           + (f": {message}" if message else "") + f". {RESUME}")
        try:
            data = resp.json()
        except ValueError:
            raise HubUnavailable(f"The hub at {self.url} answered something that is not JSON. {RESUME}") from None
        if not isinstance(data, dict):
            raise HubUnavailable(f"The hub at {self.url} answered a JSON {type(data).__name__}, not an object. {RESUME}")
        return data


def _error_message(resp: requests.Response) -> str:
    if resp.status_code < 400:
        return ""
    try:
        data = resp.json()
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    return str(error)[:500] if error else ""

"""A hub's use cases as plain functions: the HTTP routes parse, call one of these, and send ``to_json()``.

A hub is any instance with ``AUDIOMUSE_HUB_TOKENS`` set. It keeps one analysis per recording and model
version (``store/hub.py``) and takes nothing of another model version. A push is confirmed against what
the hub has by the same rule a client uses (tag key, duration, fingerprint), under a lock per tag key, so
many clients pushing the same recording at once store it once. A lookup is read-only: it returns
candidates by tags with their fingerprints, and the client confirms them with its own audio.

Routes (phase 2; all need ``Authorization: Bearer TOKEN``):
    GET  /api/collection/hub/info    -> HubInfo
    POST /api/collection/hub/lookup  LookupRequest -> LookupResponse
    POST /api/collection/hub/push    PushRequest -> PushResponse
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from audiomuse_ray.analysis import acoustic
from audiomuse_ray.recording.identity import TagQuery, durations_agree, normalise
from audiomuse_ray.recording.records import RECORD_SCHEMA, SharedAnalysis
from audiomuse_ray.collection.tokens import check_hub_token, parse_hub_tokens
from audiomuse_ray.errors import BadRequest, HubModelMismatch
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from audiomuse_ray.store import hub as hub_store

MAX_BATCH = 200  # records or queries per request
MAX_CANDIDATES = 10  # per query
STORED, KNOWN, REFUSED = "stored", "known", "refused"


# ------------------------------------------------------------------------------------------ access
def authorise(settings: Settings, authorization: str | None) -> str:
    """The client's name for an ``Authorization`` header value (``Bearer TOKEN``); ``HubAuthError`` (401)
    when it is missing or wrong, or when this instance is not a hub."""
    presented = None
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else None
    return check_hub_token(parse_hub_tokens(settings.hub_tokens), presented)


def hub_model_version(settings: Settings) -> str:
    """The model version this hub shares: the one its own analysis uses."""
    from audiomuse_ray.analysis.models import expected_version

    return expected_version(settings.models_dir)


def check_model_version(theirs: str, ours: str) -> None:
    if theirs != ours:
        raise HubModelMismatch(
            f"This hub shares analyses of model version {ours}; the request is of {theirs}. Analyses of two "
            "model versions cannot be mixed: sync with a hub that runs the same models (audiomuse-ray doctor "
            "shows the version).")


# ------------------------------------------------------------------------------------------ shapes
@dataclass(frozen=True)
class HubInfo:
    model_version: str
    recordings: int
    schema_version: int = RECORD_SCHEMA
    max_batch: int = MAX_BATCH

    def to_json(self) -> dict:
        return {"model_version": self.model_version, "recordings": self.recordings,
                "schema_version": self.schema_version, "max_batch": self.max_batch}

    @classmethod
    def from_json(cls, data) -> "HubInfo":
        try:
            return cls(str(data["model_version"]), int(data["recordings"]), int(data["schema_version"]),
                       int(data.get("max_batch", MAX_BATCH)))
        except (KeyError, TypeError, ValueError):
            raise BadRequest("The hub's info is not what an audiomuse-ray hub answers.") from None


@dataclass(frozen=True)
class LookupRequest:
    model_version: str
    queries: list[TagQuery]

    def to_json(self) -> dict:
        return {"model_version": self.model_version, "queries": [q.to_json() for q in self.queries]}

    @classmethod
    def from_json(cls, data) -> "LookupRequest":
        queries = _batch(data, "queries")
        try:
            return cls(_version(data), [TagQuery.from_json(q) for q in queries])
        except (AttributeError, TypeError, ValueError):
            raise BadRequest("Each query must be {artist, title, album, duration}.") from None


@dataclass(frozen=True)
class LookupResponse:
    model_version: str
    results: list[list[SharedAnalysis]]  # candidates per query, in the queries' order

    def to_json(self) -> dict:
        return {"model_version": self.model_version,
                "results": [{"candidates": [c.to_json() for c in found]} for found in self.results]}

    @classmethod
    def from_json(cls, data) -> "LookupResponse":
        try:
            return cls(_version(data), [[SharedAnalysis.from_json(c) for c in r["candidates"]] for r in data["results"]])
        except (KeyError, TypeError):
            raise BadRequest("The hub's lookup answer is not what an audiomuse-ray hub answers.") from None


@dataclass(frozen=True)
class PushRequest:
    model_version: str
    records: list[SharedAnalysis]

    def to_json(self) -> dict:
        return {"model_version": self.model_version, "records": [r.to_json() for r in self.records]}

    @classmethod
    def from_json(cls, data) -> "PushRequest":
        return cls(_version(data), [SharedAnalysis.from_json(r) for r in _batch(data, "records")])


@dataclass(frozen=True)
class PushResult:
    status: str  # stored (new), known (the hub had this recording), refused (see reason)
    recording_id: str | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        return {"status": self.status, "recording_id": self.recording_id, "reason": self.reason}


@dataclass(frozen=True)
class PushResponse:
    results: list[PushResult]  # one per record, in the records' order

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    def to_json(self) -> dict:
        return {"results": [r.to_json() for r in self.results], "stored": self.count(STORED),
                "known": self.count(KNOWN), "refused": self.count(REFUSED)}

    @classmethod
    def from_json(cls, data) -> "PushResponse":
        try:
            return cls([PushResult(str(r["status"]), r.get("recording_id"), r.get("reason")) for r in data["results"]])
        except (KeyError, TypeError, AttributeError):
            raise BadRequest("The hub's push answer is not what an audiomuse-ray hub answers.") from None


def _version(data) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("model_version"), str):
        raise BadRequest("The request must be a JSON object with model_version.")
    return data["model_version"]


def _batch(data, name: str) -> list:
    items = data.get(name) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise BadRequest(f"The request must carry a list of {name}.")
    if len(items) > MAX_BATCH:
        raise BadRequest(f"At most {MAX_BATCH} {name} per request; split the batch.")
    return items


# ------------------------------------------------------------------------------------------ use cases
def hub_info(store: Store, model_version: str) -> HubInfo:
    return HubInfo(model_version, hub_store.count(store, model_version))


def lookup(store: Store, request: LookupRequest, *, model_version: str) -> LookupResponse:
    """Candidates for each query: same tag key, durations that agree, the same album first."""
    check_model_version(request.model_version, model_version)
    keys = [q.key for q in request.queries]
    with store.connect() as conn:
        found = hub_store.candidates(conn, [k for k in keys if k], model_version, as_type=SharedAnalysis)
    results = []
    for query, key in zip(request.queries, keys):
        fits = [c for c in found.get(key, []) if durations_agree(query.duration, c.duration)] if key else []
        album = normalise(query.album)
        fits.sort(key=lambda c: normalise(c.album) != album)
        results.append(fits[:MAX_CANDIDATES])
    return LookupResponse(model_version, results)


def push(store: Store, request: PushRequest, *, model_version: str, contributor: str,
         keep_ids: bool = False) -> PushResponse:
    """Store each record unless the hub has its recording (then answer its id). All-or-nothing per request.
    ``keep_ids`` (an operator's import, never a client's push): a new record keeps its recording id, and
    an id the hub already holds counts as known."""
    check_model_version(request.model_version, model_version)
    for record in request.records:
        check_model_version(record.model_version, model_version)
    keys = [r.tag_key for r in request.records]
    results: list[PushResult] = []
    with hub_store.locked(store, [k for k in keys if k]) as conn:
        known = hub_store.candidates(conn, [k for k in keys if k], model_version, as_type=SharedAnalysis)
        taken = hub_store.existing_ids(conn, [r.recording_id for r in request.records if r.recording_id]) \
            if keep_ids else set()
        items = {}  # fingerprint text -> items, decoded once per request
        for record, key in zip(request.records, keys):
            mine = items.setdefault(record.fingerprint, acoustic.decode(record.fingerprint))
            if key is None:
                results.append(PushResult(REFUSED, reason="no title: a record needs one to be found"))
                continue
            if not acoustic.informative(mine):
                results.append(PushResult(REFUSED, reason="the fingerprint is too short or too uniform to confirm"))
                continue
            match = next((c for c in known.get(key, []) if durations_agree(record.duration, c.duration)
                          and acoustic.same_recording(mine, items.setdefault(c.fingerprint, acoustic.decode(c.fingerprint)))),
                         None)
            if match is not None:
                results.append(PushResult(KNOWN, match.recording_id))
                continue
            if keep_ids and record.recording_id in taken:
                results.append(PushResult(KNOWN, record.recording_id))
                continue
            recording_id = record.recording_id if keep_ids and record.recording_id else uuid.uuid4().hex
            taken.add(recording_id)
            hub_store.insert(conn, record, recording_id, key, contributor)
            known.setdefault(key, []).append(_with_id(record, recording_id))
            results.append(PushResult(STORED, recording_id))
    return PushResponse(results)


def _with_id(record: SharedAnalysis, recording_id: str) -> SharedAnalysis:
    from dataclasses import replace

    return replace(record, recording_id=recording_id)

"""JSON shapes of the collection routes: a hub's (``/api/collection/hub/…``, hub token) and a client's
(``/api/collection/start``, ``last_task``, ``consent``, AudioMuse-AI's where it has them). The bodies are
documented here; the hub's use cases check every value again (``collection/hub.py``), because a hub takes
them from any client holding a token."""

from __future__ import annotations

from pydantic import Field

from audiomuse_ray.serve.params import LooseInt
from audiomuse_ray.serve.schemas import Open, TaskStatus


# ------------------------------------------------------------------------------------------------ hub
class HubInfoReply(Open):
    model_version: str = Field(description="The model version whose analyses this hub shares (only that one).")
    recordings: int = Field(description="Recordings the hub holds for that version.")
    schema_version: int = Field(description="The record schema it speaks.")
    max_batch: int = Field(description="At most this many queries or records per request.")


class TagQuery(Open):
    artist: str | None = None
    title: str | None = None
    album: str | None = None
    duration: float | None = Field(None, description="Seconds; candidates must agree within 3 s or 2 %.")


class SharedRecord(Open):
    """One recording's analysis as shared: tags, fingerprint and analysis numbers; no path, no local id."""

    recording_id: str | None = Field(None, description="The hub's id (in answers; ignored in a push).")
    artist: str | None = None
    title: str | None = None
    album: str | None = None
    duration: float | None = Field(None, description="Seconds, the whole file.")
    fingerprint: str = Field(description="Chromaprint of the first two minutes (compressed, base64).")
    model_version: str = Field(description="The models' version; a hub takes only its own.")
    tempo: float | None = None
    key: str | None = None
    scale: str | None = None
    energy: float | None = None
    mood_vector: dict[str, float] | None = Field(None, description="Label: score.")
    other_features: dict[str, float] | None = Field(None, description="Label: score (danceable, happy, ...).")
    embedding: str = Field(description="The embedding as base64 of little-endian float32 values.")
    tags: str | None = Field(None, description="Tag scores as base64 of little-endian float32 values.")


class HubLookupBody(Open):
    model_version: str = Field(description="The client's model version (refused with 409 if not the hub's).")
    queries: list[TagQuery] = Field(description="Up to max_batch tag queries.")


class HubCandidates(Open):
    candidates: list[SharedRecord] = Field(description="Same tag key, agreeing duration, the same album first; "
                                                       "the client confirms them by fingerprint.")


class HubLookupReply(Open):
    model_version: str
    results: list[HubCandidates] = Field(description="One per query, in the queries' order.")


class HubPushBody(Open):
    model_version: str = Field(description="The client's model version (refused with 409 if not the hub's).")
    records: list[SharedRecord] = Field(description="Up to max_batch records.")


class PushOutcome(Open):
    status: str = Field(description="stored (new), known (the hub had the recording) or refused.")
    recording_id: str | None = None
    reason: str | None = Field(None, description="Why a record was refused.")


class HubPushReply(Open):
    results: list[PushOutcome] = Field(description="One per record, in the records' order.")
    stored: int
    known: int
    refused: int


# ------------------------------------------------------------------------------------------------ client
class SyncStartBody(Open):
    url: str | None = Field(None, description="The hub's address (http:// or https://).")
    token: str | None = Field(None, description="The hub token its operator gave this instance.")
    num_albums: LooseInt = Field(None, description="Sync the N most recently added albums; 0 = all.")


class SyncLastTask(TaskStatus):
    task_id: str | None = Field(None, description="Absent when no sync has run.")
    status: str | None = Field(None, description="The task's state, or NO_PREVIOUS_TASK.")


class ConsentBody(Open):
    consent: bool = Field(strict=True, description="true: consent to sharing as the statement says; false: "
                                                   "withdraw it (nothing else reads as either).")


class SharedFields(Open):
    fields: str
    what: str


class ConsentReply(Open):
    consented: bool = Field(description="Whether the owner consented to this very statement.")
    given_at: str | None = Field(None, description="When (ISO 8601, UTC).")
    statement: str = Field(description="The statement's digest: a changed statement needs a new consent.")
    shared: list[SharedFields] = Field(description="What a sync shares, field by field.")
    never: list[str] = Field(description="What never leaves this instance.")
    hub_keeps: str = Field(description="What the hub records beside the analyses.")


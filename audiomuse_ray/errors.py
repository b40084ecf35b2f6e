"""Every error the service raises on purpose, each with a sentence that tells the user what to do next.

Callers catch these types, never bare ``Exception``: a typed error is recorded (task log, ``analysis_error``
row, HTTP ``{"error": ...}``) and the job goes on; anything else is a bug and is allowed to surface.

Each class carries the HTTP status it is answered with (``http_status``), so the HTTP edge needs no table
of its own: 400 when the caller's request is at fault, 404 when it names nothing, 502 when a server this
service talks to failed, 503 when this service is not ready or not configured, 500 for its own faults.
"""

from __future__ import annotations

from typing import ClassVar

UNEXPECTED_STATUS = 500  # an exception that is not an AudioMuseError is a bug


class AudioMuseError(Exception):
    """Base class: the message is meant for the person running the service.

    ``reply`` holds fields an HTTP answer carries beside ``{"error": message}``, where AudioMuse-AI's
    clients read a route-specific error body (a task id, ``status_message``...); the use case that raises
    the error fills it, so the HTTP edge has one handler for every error."""

    http_status: ClassVar[int] = UNEXPECTED_STATUS

    def __init__(self, message: str = "", *, reply: dict | None = None):
        super().__init__(message)
        self.reply = dict(reply or {})

    def body(self) -> dict:
        """The JSON an HTTP client gets: ``{"error": message}`` plus the route's own fields."""
        return {"error": str(self), **self.reply}


def http_status(exc: BaseException) -> int:
    """The HTTP status an exception is answered with; 500 for anything this module does not define."""
    return exc.http_status if isinstance(exc, AudioMuseError) else UNEXPECTED_STATUS


class BadRequest(AudioMuseError, ValueError):
    """A request parameter or body is missing or malformed: the caller has to change the request."""

    http_status = 400


class ConfigurationError(AudioMuseError):
    """A setting is missing or contradicts another one: whoever runs the service has to set it."""

    http_status = 503


class StoreError(AudioMuseError):
    """The database cannot be reached or has an unexpected schema."""

    http_status = 503


class ProviderError(AudioMuseError):
    """Base class for media-server problems: the media server, not this service or the caller, failed."""

    http_status = 502


class ProviderUnavailable(ProviderError):
    """The media server did not answer, or answered with a server error, after retries."""

    http_status = 502


class ProviderAuthError(ProviderError):
    """The media server refused the credentials."""

    http_status = 502


class ProviderRequestError(ProviderError):
    """The media server understood the request but refused it (unknown id, bad parameter)."""

    http_status = 502


class HistoryUnsupported(ProviderError):
    """The provider keeps no listening history, so sonic fingerprints cannot be made from it: the caller
    asked for something this provider cannot give."""

    http_status = 400


class LLMError(AudioMuseError):
    """The language model could not be asked or its answer could not be read."""

    http_status = 502


class AudioError(AudioMuseError):
    """Base class for a track that cannot be analysed; the job records it and moves on."""

    http_status = 422


class UnreadableAudio(AudioError):
    """The file is empty, truncated, not audio, or in a format no decoder here understands."""

    http_status = 422


class AudioTooShort(AudioError):
    """The decoded audio is shorter than one model patch (about 3 seconds)."""

    http_status = 422


class SilentAudio(AudioError):
    """The audio is digital silence: there is nothing for the model to hear."""

    http_status = 422


class ModelNotBuilt(AudioMuseError):
    """The ONNX models have not been converted yet."""

    http_status = 503


class TaskCancelled(AudioMuseError):
    """A long job noticed that its task was cancelled."""

    http_status = 409


class IndexNotBuilt(AudioMuseError):
    """No similarity index exists yet: the analysis has not run."""

    http_status = 503


class UnknownTrack(AudioMuseError):
    """An item id, title or artist matched nothing in the library."""

    http_status = 404


class JobAlreadyRunning(AudioMuseError):
    """A job of the same kind is active (at most one analysis and one clustering run at a time)."""

    http_status = 409

    def __init__(self, message: str, task_id: str | None = None, *, reply: dict | None = None):
        super().__init__(message, reply=reply)
        self.task_id = task_id


class UnknownArtist(AudioMuseError):
    """An artist name or media-server artist id matched no analysed artist."""

    http_status = 404


class UnknownTask(AudioMuseError):
    """A task id matched no task."""

    http_status = 404


class UnknownUser(AudioMuseError):
    """A user name or id matched no user of the media server."""

    http_status = 404


class UnsafeQuery(AudioMuseError):
    """A generated SQL statement was refused before it ran: it is not one read-only SELECT of the
    ``score`` table using only allowed functions. The message names the rule it broke."""

    http_status = 400


class QueryFailed(AudioMuseError):
    """A statement the guard accepted failed when it ran (a SQL error, or it ran past its time limit);
    nothing was changed. The message says why."""

    http_status = 422


class UnknownAnchor(AudioMuseError):
    """An anchor id matched no saved anchor."""

    http_status = 404


class UnknownRadio(AudioMuseError):
    """A radio id matched no saved radio."""

    http_status = 404


class UnknownSchedule(AudioMuseError):
    """A schedule id matched no row of the schedule table."""

    http_status = 404


class AlreadyExists(AudioMuseError):
    """Something of that name (an anchor) or for that owner (a radio of an anchor) is already saved."""

    http_status = 409


class AnchorUnresolvable(AudioMuseError):
    """None of an anchor's songs or artists is in the analysed library any more, and it keeps no centroid
    (or one of another model's size): the anchor has to be saved again from songs that exist."""

    http_status = 422


class FingerprintUnavailable(AudioMuseError):
    """Chromaprint (libchromaprint) is not installed, so recordings cannot be identified for sharing."""

    http_status = 503


class HubError(AudioMuseError):
    """Base class for collection-sync hub problems (the hub, not this instance, failed or refused)."""

    http_status = 502


class HubUnavailable(HubError):
    """The hub did not answer, timed out or answered with something that is not its API."""

    http_status = 502


class HubAuthError(HubError):
    """The hub token is missing or wrong (on a hub: answered 401; on a client: the hub refused ours)."""

    http_status = 401


class NotAHub(HubAuthError):
    """A hub route asked of an instance without ``AUDIOMUSE_HUB_TOKENS``: no token can open it, and the 404
    tells a client it reached an audiomuse-ray that is not a hub (rather than a refused token)."""

    http_status = 404


class HubModelMismatch(HubError):
    """An analysis made with another model version than the hub's (or this instance's): the two cannot
    be mixed in one similarity space."""

    http_status = 409


class ExchangeFileError(AudioMuseError):
    """An exchange (Parquet) file is unreadable, from a newer schema or from another model version."""

    http_status = 400

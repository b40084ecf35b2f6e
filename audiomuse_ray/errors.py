"""Every error the service raises on purpose, each with a sentence that tells the user what to do next.

Callers catch these types, never bare ``Exception``: a typed error is recorded (task log, ``analysis_error``
row, HTTP ``{"error": ...}``) and the job goes on; anything else is a bug and is allowed to surface.
"""

from __future__ import annotations


class AudioMuseError(Exception):
    """Base class: the message is meant for the person running the service."""


class ConfigurationError(AudioMuseError):
    """A setting is missing or contradicts another one."""


class StoreError(AudioMuseError):
    """The database cannot be reached or has an unexpected schema."""


class ProviderError(AudioMuseError):
    """Base class for media-server problems."""


class ProviderUnavailable(ProviderError):
    """The media server did not answer, or answered with a server error, after retries."""


class ProviderAuthError(ProviderError):
    """The media server refused the credentials."""


class ProviderRequestError(ProviderError):
    """The media server understood the request but refused it (unknown id, bad parameter)."""


class HistoryUnsupported(ProviderError):
    """The provider keeps no listening history, so sonic fingerprints cannot be made from it."""


class AudioError(AudioMuseError):
    """Base class for a track that cannot be analysed; the job records it and moves on."""


class UnreadableAudio(AudioError):
    """The file is empty, truncated, not audio, or in a format no decoder here understands."""


class AudioTooShort(AudioError):
    """The decoded audio is shorter than one model patch (about 3 seconds)."""


class SilentAudio(AudioError):
    """The audio is digital silence: there is nothing for the model to hear."""


class ModelNotBuilt(AudioMuseError):
    """The ONNX models have not been converted yet."""


class TaskCancelled(AudioMuseError):
    """A long job noticed that its task was cancelled."""


class IndexNotBuilt(AudioMuseError):
    """No similarity index exists yet: the analysis has not run."""


class UnknownTrack(AudioMuseError):
    """An item id, title or artist matched nothing in the library."""

"""Tags to candidate keys. Normalisation only ever *finds* candidates; the acoustic fingerprint decides.

So it may be generous (two different recordings sharing a key only cost a fingerprint comparison) but
must not be strict (a key that differs between two copies of one recording hides a match): case,
accents, punctuation, "The ", bracketed remarks ("(Remastered 2011)", "[Live]") and featured artists
are dropped, and so are the spaces between words; the first credited artist stands for the rest. Durations must agree within
``DURATION_TOLERANCE_S`` (or ``DURATION_TOLERANCE_FRACTION`` of the longer): an edit or a clip of a
recording is another recording.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

KEY_MAX_CHARS = 200  # per part: the key column is indexed
DURATION_TOLERANCE_S = 3.0
DURATION_TOLERANCE_FRACTION = 0.02

_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_FEATURING = re.compile(r"\s(?:feat\.?|ft\.?|featuring)\s.*$")
_ARTIST_FEATURING = re.compile(r"\s(?:feat\.?|ft\.?|featuring|with)\s.*$")
_ARTIST_SPLIT = re.compile(r"\s(?:&|and|x|×|vs\.?|/)\s|[;,/]\s*")
_NOT_WORD = re.compile(r"[^\w]+")
_ARTICLE = re.compile(r"^(?:the|a|an|le|la|les|der|die|das|el|los|las|il)\s+")


def normalise(text: str | None) -> str:
    """Folded, accent-free words separated by single spaces.

    >>> normalise("  Beyoncé — Halo (Live)  ")
    'beyonce halo'
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _BRACKETS.sub(" ", text)
    text = text.replace("&", " and ")
    return " ".join(_NOT_WORD.sub(" ", text).replace("_", " ").split())


def normalise_title(title: str | None) -> str:
    """The title without bracketed remarks or a "feat. X" tail.

    >>> normalise_title("Halo (feat. Someone) [2011 Remaster]")
    'halo'
    """
    if not title:
        return ""
    cut = _FEATURING.sub("", " " + unicodedata.normalize("NFKC", title).casefold() + " ").strip()
    return normalise(cut)[:KEY_MAX_CHARS]


def normalise_artist(artist: str | None) -> str:
    """The first credited artist, without a leading article.

    >>> normalise_artist("The Beatles feat. Billy Preston")
    'beatles'
    >>> normalise_artist("Simon & Garfunkel")
    'simon'
    """
    if not artist:
        return ""
    text = unicodedata.normalize("NFKC", artist).casefold()
    text = _ARTIST_FEATURING.sub("", " " + text + " ").strip()
    first = _ARTIST_SPLIT.split(text, maxsplit=1)[0]
    return _ARTICLE.sub("", normalise(first))[:KEY_MAX_CHARS]


def tag_key(artist: str | None, title: str | None) -> str | None:
    """``"artist\\x1ftitle"`` with the spaces taken out too ("T.N.T." and "TNT", "Don't" and "Dont" meet):
    the key shared by every copy of a recording; None without a title (such a track is never shared or
    matched: there is nothing to find candidates by).

    >>> tag_key("The Who", "Baba O'Riley")
    'who\\x1fbabaoriley'
    """
    t = normalise_title(title).replace(" ", "")
    if not t:
        return None
    return f"{normalise_artist(artist).replace(' ', '')}\x1f{t}"


def durations_agree(a: float | None, b: float | None) -> bool:
    """True when either is unknown or they differ by at most the tolerance."""
    if not a or not b:
        return True
    return abs(a - b) <= max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_FRACTION * max(a, b))


@dataclass(frozen=True)
class TagQuery:
    """What a client asks a hub about one of its tracks: the tags, never a path or an id."""

    artist: str | None
    title: str | None
    album: str | None = None
    duration: float | None = None

    @property
    def key(self) -> str | None:
        return tag_key(self.artist, self.title)

    def to_json(self) -> dict:
        return {"artist": self.artist, "title": self.title, "album": self.album,
                "duration": None if self.duration is None else round(float(self.duration), 3)}

    @classmethod
    def from_json(cls, data: dict) -> "TagQuery":
        duration = data.get("duration")
        return cls(_text(data.get("artist")), _text(data.get("title")), _text(data.get("album")),
                   None if duration is None else float(duration))


def _text(value) -> str | None:
    return None if value is None else str(value)

"""The offline mode: words of the request become conditions on tags, moods, tempo and energy, without any
language model. The statement it builds goes through the same guard and executor as a model's.

Each recognised word adds a score (a tag of ``mood_vector``, a mood of ``other_features``, energy); a song
qualifies when it has any of them (a tag among its five strongest, a mood above zero) and songs are
ordered by the sum of their scores, strongest first. Tempo words ("fast", "slow") are hard limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audiomuse_ray.chat.sql_guard import MAX_ROWS
from audiomuse_ray.chat.prompt import TAG_LABELS, feature_score

# word -> mood of other_features
MOOD_WORDS = {
    "sad": "sad", "melancholic": "sad", "melancholy": "sad", "gloomy": "sad", "depressing": "sad",
    "relaxed": "relaxed", "relaxing": "relaxed", "relax": "relaxed", "calm": "relaxed", "chill": "relaxed",
    "chilled": "relaxed", "mellow": "relaxed", "peaceful": "relaxed", "quiet": "relaxed", "soft": "relaxed",
    "happy": "happy", "cheerful": "happy", "joyful": "happy", "upbeat": "happy", "uplifting": "happy",
    "party": "party", "partying": "party", "celebration": "party",
    "aggressive": "aggressive", "angry": "aggressive", "heavy": "aggressive", "intense": "aggressive",
    "hard": "aggressive", "furious": "aggressive",
    "danceable": "danceable", "dance": "danceable", "dancing": "danceable", "groovy": "danceable",
}
# word -> tags of mood_vector (besides the tags' own names, matched case-insensitively)
TAG_WORDS = {
    "metal": ("metal", "heavy metal"), "hiphop": ("Hip-Hop",), "hip-hop": ("Hip-Hop",), "rap": ("Hip-Hop",),
    "electronic": ("electronic", "electronica", "electro"), "techno": ("electronic", "electro"),
    "chill": ("chill", "chillout"), "calm": ("chillout", "Mellow"), "relaxing": ("chillout", "easy listening"),
    "mellow": ("Mellow",), "house": ("House",), "rnb": ("rnb",), "r&b": ("rnb",), "classic": ("classic rock", "oldies"),
    "2000s": ("00s",), "00s": ("00s",), "90s": ("90s",), "1990s": ("90s",), "80s": ("80s",), "1980s": ("80s",),
    "70s": ("70s",), "1970s": ("70s",), "60s": ("60s",), "1960s": ("60s",), "vocals": ("female vocalists", "male vocalists"),
    "instrumental": ("instrumental",), "acoustic": ("acoustic",), "guitar": ("guitar",), "sexy": ("sexy",),
    "catchy": ("catchy",), "beautiful": ("beautiful",), "oldies": ("oldies",),
}
ENERGY_WORDS = {"energetic", "energy", "powerful", "loud", "workout", "running", "pumping"}
FAST_WORDS = {"fast", "quick", "rapid", "speedy", "uptempo"}
SLOW_WORDS = {"slow", "slower", "downtempo"}
FAST_BPM, SLOW_BPM = 120, 90
_TAGS_BY_LOWER = {t.lower(): t for t in TAG_LABELS}


@dataclass(frozen=True)
class KeywordPlan:
    """What was understood: the tags and moods scored, the tempo limits, whether energy counts, and the
    words that meant nothing here."""

    tags: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    energy: bool = False
    min_tempo: float | None = None
    max_tempo: float | None = None
    unknown: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.tags or self.moods or self.energy or self.min_tempo or self.max_tempo)

    def describe(self) -> str:
        parts = [f"tags {', '.join(self.tags)}" if self.tags else "", f"moods {', '.join(self.moods)}" if self.moods else "",
                 "high energy" if self.energy else "", f"tempo above {self.min_tempo:g} BPM" if self.min_tempo else "",
                 f"tempo below {self.max_tempo:g} BPM" if self.max_tempo else ""]
        return "; ".join(p for p in parts if p) or "nothing"


def plan(request: str) -> KeywordPlan:
    """The words of ``request`` (single words and pairs, so "heavy metal" and "hip hop" count) mapped."""
    words = re.findall(r"[a-z0-9&'-]+", request.lower())
    tags: list[str] = []
    moods: list[str] = []
    energy = False
    min_tempo = max_tempo = None
    used: set[int] = set()
    for i in range(len(words) - 1):  # two-word tags first: "heavy metal", "easy listening", "hip hop"
        pair = f"{words[i]} {words[i + 1]}"
        tag = _TAGS_BY_LOWER.get(pair) or ("Hip-Hop" if pair == "hip hop" else None)
        if tag:
            tags.append(tag)
            used |= {i, i + 1}
    for i, word in enumerate(words):
        if i in used:
            continue
        hit = False
        if word in MOOD_WORDS:
            moods.append(MOOD_WORDS[word])
            hit = True
        if word in TAG_WORDS:
            tags.extend(TAG_WORDS[word])
            hit = True
        elif word in _TAGS_BY_LOWER:
            tags.append(_TAGS_BY_LOWER[word])
            hit = True
        if word in ENERGY_WORDS:
            energy = hit = True
        if word in FAST_WORDS:
            min_tempo, hit = FAST_BPM, True
        if word in SLOW_WORDS:
            max_tempo, hit = SLOW_BPM, True
        if hit:
            used.add(i)
    unknown = tuple(w for i, w in enumerate(words) if i not in used)
    return KeywordPlan(tuple(dict.fromkeys(tags)), tuple(dict.fromkeys(moods)), energy, min_tempo, max_tempo, unknown)


def build_sql(p: KeywordPlan) -> str:
    """The PostgreSQL statement for a plan (``plan(...)``); the guard validates it like any other."""
    if p.empty:
        raise ValueError("nothing in the request maps to a tag, mood, tempo or energy")
    scores = [feature_score("mood_vector", t) for t in p.tags] + [feature_score("other_features", m) for m in p.moods]
    if p.energy:
        scores.append("energy * 4")  # energy tops out near 0.25: scaled to weigh like a strong tag
    any_of = [f"{s} > 0" for s in scores]
    where = []
    if any_of:
        where.append("(" + " OR ".join(any_of) + ")")
    if p.min_tempo:
        where.append(f"tempo > {p.min_tempo:g}")
    if p.max_tempo:
        where.append(f"tempo < {p.max_tempo:g}")
    order = " + ".join(f"COALESCE({s}, 0)" for s in scores) if scores else "random()"
    direction = " DESC" if scores else ""
    return (f"SELECT item_id, title, author FROM score WHERE {' AND '.join(where)} "
            f"ORDER BY {order}{direction}, random() LIMIT {MAX_ROWS}")

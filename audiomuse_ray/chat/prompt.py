"""What the language model is told: write one PostgreSQL SELECT over ``score`` for a playlist request.

The model always writes PostgreSQL; the guard validates that and, on SQLite, transpiles it. The two text
columns hold ``label:score`` lists, which SQL cannot read without an idiom, so the prompt gives the exact
expression (``feature_score``) for each label; ``IDIOMS`` shows what the same expression becomes on each
database (the guard rewrites the PostgreSQL form for SQLite, and a test holds the two to each other).
"""

from __future__ import annotations

from audiomuse_ray.labels import MOOD_LABELS
from audiomuse_ray.chat.sql_guard import MAX_ROWS, allowed_list

# The 50 tags of the MSD MusiCNN model, as score.mood_vector names them (its five strongest per song).
TAG_LABELS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
    "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
    "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock",
    "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb",
    "indie pop", "sad", "House", "happy",
)
FEATURE_LABELS = MOOD_LABELS  # score.other_features: danceable, aggressive, happy, party, relaxed, sad


def feature_score(column: str, label: str, dialect: str = "postgresql") -> str:
    """The SQL expression for ``label``'s score in the text list ``column`` (NULL when the label is absent).

    The pattern anchors on the list's start or a comma, so ``rock`` does not match ``indie rock``.

    >>> feature_score("mood_vector", "rock")
    "CAST(substring(mood_vector FROM '(?:^|,)rock:([0-9.]+)') AS float)"
    """
    pattern = f"(?:^|,){label}:([0-9.]+)"
    if dialect == "sqlite":
        return f"CAST(regexp_substring({column}, '{pattern}') AS REAL)"
    return f"CAST(substring({column} FROM '{pattern}') AS float)"


IDIOMS = {d: feature_score("mood_vector", "rock", d) for d in ("postgresql", "sqlite")}

_PROMPT = """You turn a music playlist request into ONE PostgreSQL query over a table of analysed songs.

Answer with the SQL statement only: no explanation, no comments, no markdown.

RULES
- Exactly one SELECT (UNION ALL of SELECTs is fine). Nothing that writes or changes anything.
- Select exactly these columns: SELECT item_id, title, author FROM score
- Read only the table score. No joins, no WITH, no other tables.
- End with ORDER BY random() LIMIT {limit} unless the request asks for an order (see TOP SONGS).
- Write a single quote inside a string as two: 'Don''t Stop'.
- Match a known song by exact title and a loose artist: (title = 'Song' AND author ILIKE '%Artist%').
- Allowed functions: {functions}.

TABLE score
  item_id        text     the song's id
  title          text     song title
  author         text     artist
  album          text
  tempo          float    beats per minute, 40 to 200
  key, scale     text     e.g. 'C' and 'major'
  energy         float    loudness, about 0.0 to 0.26 (most songs below 0.05)
  duration       float    seconds
  mood_vector    text     the song's five strongest style tags with scores, strongest first,
                          e.g. 'rock:0.53,pop:0.21,80s:0.12,guitar:0.1,classic rock:0.08'
  other_features text     six mood scores from 0 to 1,
                          e.g. 'danceable:0.61,aggressive:0.12,happy:0.05,party:0.02,relaxed:0.3,sad:0.01'

READING THE TAG AND MOOD LISTS
The score of one label is this exact expression (replace the label, keep the rest):
  {idiom}
  {idiom_features}
It is NULL when the song does not have the label, so a condition on it also means "has the label".
Tag scores are low: 0.1 is a clear tag, 0.3 a strong one. Mood scores (other_features): 0.2 is
noticeable, 0.4 strong. For "a lot of X" use the higher value, for "some X" the lower.
Tempo: slow below 90, medium 90 to 120, fast above 120. Energetic: energy above 0.05.

TAG LABELS (mood_vector): {tags}
MOOD LABELS (other_features): {features}

TOP SONGS
For "top", "best", "famous" or "greatest hits" requests, list the songs you know are the artist's or
era's best and order by that list instead of random():
  ORDER BY CASE WHEN title = 'First' THEN 1 WHEN title = 'Second' THEN 2 ELSE 3 END, random()

SEVERAL GROUPS
To mix groups, wrap a UNION ALL in a subquery and order the whole:
  SELECT item_id, title, author FROM (
    SELECT item_id, title, author FROM score WHERE <first group>
    UNION ALL
    SELECT item_id, title, author FROM score WHERE <second group>
  ) AS mixed ORDER BY random() LIMIT {limit}

EXAMPLES
Request: calm ambient music
SELECT item_id, title, author FROM score
WHERE {ambient} >= 0.1 AND {relaxed} >= 0.1
ORDER BY random() LIMIT {limit}

Request: fast danceable songs
SELECT item_id, title, author FROM score
WHERE tempo > 120 AND {danceable} >= 0.3
ORDER BY random() LIMIT {limit}

Request: sad songs from the 80s
SELECT item_id, title, author FROM score
WHERE {eighties} IS NOT NULL AND {sad} >= 0.2
ORDER BY random() LIMIT {limit}

REQUEST
{request}
"""

_RETRY = """Your previous query for this request could not be used.

Previous query:
{previous}

Problem: {problem}

Write a corrected query that follows every rule below.{loosen}

{prompt}"""


def build_prompt(request: str) -> str:
    """The full instruction for one request (the request is quoted last, after every rule)."""
    return _PROMPT.format(
        limit=MAX_ROWS, functions=allowed_list(),
        idiom=feature_score("mood_vector", "rock"), idiom_features=feature_score("other_features", "relaxed"),
        tags=", ".join(TAG_LABELS), features=", ".join(FEATURE_LABELS),
        ambient=feature_score("mood_vector", "ambient"), relaxed=feature_score("other_features", "relaxed"),
        danceable=feature_score("other_features", "danceable"), eighties=feature_score("mood_vector", "80s"),
        sad=feature_score("other_features", "sad"), request=request.strip(),
    )


def build_retry_prompt(request: str, previous: str, problem: str, *, empty: bool = False) -> str:
    """A second chance after a refused or failed query (``empty``: it ran but found nothing)."""
    loosen = " It found no songs: loosen the conditions (lower thresholds, fewer conditions)." if empty else ""
    return _RETRY.format(previous=previous.strip() or "(none)", problem=problem, loosen=loosen,
                         prompt=build_prompt(request))

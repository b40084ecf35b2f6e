"""Track search for the plugins' pickers: every word of the query must appear in title, artist or album,
ignoring case and accents ("beyonce" finds "Beyoncé"). Best matches first: a word found in the title
counts 3, in the artist 2, in the album 1; ties by title, artist, album."""

from __future__ import annotations

from audiomuse_ray.similarity.library import TrackMeta, normalise

MIN_QUERY_CHARS = 3
DEFAULT_PAGE = 20


class SearchIndex:
    """Normalised fields built once per library snapshot."""

    def __init__(self, meta: list[TrackMeta]):
        self.meta = meta
        self.fields = [(normalise(m.title), normalise(m.author), normalise(m.album)) for m in meta]

    def search(self, query: str, start: int = 0, end: int | None = None) -> list[TrackMeta]:
        text = normalise(query)
        words = text.split()
        if len(text) < MIN_QUERY_CHARS or not words:
            return []
        start = max(0, start)
        limit = (end - start) if end is not None else DEFAULT_PAGE
        if limit <= 0:
            return []
        scored = []
        for i, (title, author, album) in enumerate(self.fields):
            haystack = f"{title} {author} {album}"
            if all(w in haystack for w in words):
                score = sum(3 * (w in title) + 2 * (w in author) + (w in album) for w in words)
                scored.append((-score, title, author, album, i))
        scored.sort()
        return [self.meta[s[-1]] for s in scored[start:start + limit]]

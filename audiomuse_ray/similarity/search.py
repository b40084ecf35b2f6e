"""Track search for the plugins' pickers: every word of the query must appear in title, artist or album,
ignoring case and accents ("beyonce" finds "Beyoncé"). Best matches first: a word found in the title
counts 3, in the artist 2, in the album 1; ties by title, artist, album.

Vectorised over the snapshot's columns: each word is one Arrow substring scan of the normalised titles and
one of the distinct artists and albums, and the order is one ``lexsort`` of integer ranks, so a query
costs tens of milliseconds at a million tracks instead of a Python loop over every one.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from audiomuse_ray.similarity.columns import Strings, ranks
from audiomuse_ray.similarity.meta import TrackColumns, TrackMeta, normalise

MIN_QUERY_CHARS = 3
DEFAULT_PAGE = 20


def contains(column: Strings, word: str) -> np.ndarray:
    return np.asarray(pc.match_substring(column.arrow, word).fill_null(False), bool)


class SearchIndex:
    """The columns a search reads, built once per library snapshot (ranks: a sort of each column)."""

    def __init__(self, columns: TrackColumns | list[TrackMeta]):
        if not isinstance(columns, TrackColumns):
            columns = TrackColumns.from_meta(columns, np.ones(len(columns), np.float32))
        self.columns = columns
        self.title_rank = columns.title_rank  # stored with the version
        self.author_rank = ranks(columns.n_author)  # per distinct artist
        self.album_rank = ranks(columns.n_album)

    @property
    def meta(self) -> TrackColumns:
        return self.columns

    def search_rows(self, query: str, start: int = 0, end: int | None = None) -> np.ndarray:
        """Rows of the matches from ``start`` to ``end`` (default: ``DEFAULT_PAGE`` of them), best first."""
        text = normalise(query)
        words = text.split()
        if len(text) < MIN_QUERY_CHARS or not words:
            return np.zeros(0, np.int64)
        start = max(0, start)
        limit = (end - start) if end is not None else DEFAULT_PAGE
        if limit <= 0:
            return np.zeros(0, np.int64)
        c = self.columns
        author, album = c.author.codes, c.album.codes
        score = np.zeros(len(c), np.int32)
        found = np.ones(len(c), bool)
        for w in words:
            in_title = contains(c.n_title, w)
            in_author = contains(c.n_author, w)[author]
            in_album = contains(c.n_album, w)[album]
            found &= in_title | in_author | in_album
            score += 3 * in_title + 2 * in_author + in_album
        rows = np.nonzero(found)[0]
        if not rows.size:
            return rows
        order = np.lexsort((rows, self.album_rank[album[rows]], self.author_rank[author[rows]],
                            self.title_rank[rows], -score[rows]))
        return rows[order[start:start + limit]]

    def search(self, query: str, start: int = 0, end: int | None = None) -> list[TrackMeta]:
        return [self.columns[r] for r in self.search_rows(query, start, end)]


def find_title_artist(columns: TrackColumns, title: str, artist: str) -> int | None:
    """The first row whose normalised title and artist equal ``title`` and ``artist`` (already normalised),
    else the first that contains both; None when none does."""
    author = columns.author.codes
    exact_author = np.asarray(pc.equal(columns.n_author.arrow, artist).fill_null(False), bool)[author]
    exact = exact_author & np.asarray(pc.equal(columns.n_title.arrow, title).fill_null(False), bool)
    hits = np.nonzero(exact)[0]
    if not hits.size:
        hits = np.nonzero(contains(columns.n_title, title) & contains(columns.n_author, artist)[author])[0]
    return int(hits[0]) if hits.size else None

"""Ray job entry point: rebuild the similarity index, the artist index and the music map from the store.

    ray job submit --address http://HEAD:8265 --working-dir . -- python jobs/build_index.py

The analysis does this itself after a run that analysed anything; this job is for the other times: after
restoring a database, after changing the index parameters, or to recompute the map. Settings (the database
above all) come from AUDIOMUSE_* environment variables and the same ``--flags`` as ``audiomuse-ray`` takes,
parsed by ``Settings.load`` like every other source. Each run stores a new index version; the Serve
replicas swap it in at their next check.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass

from audiomuse_ray.cli import add_settings_arguments, settings_from_args
from audiomuse_ray.errors import AudioMuseError, IndexNotBuilt
from audiomuse_ray.settings import Settings


@dataclass(frozen=True)
class IndexSummary:
    version: int
    tracks: int
    artists: int
    map_method: str


def parse_settings(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_settings_arguments(parser, title="settings")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING)
    return settings_from_args(args)


def build_all(settings: Settings) -> IndexSummary:
    """A new index version from every stored embedding, its artist index and its 2-D map."""
    from audiomuse_ray.similarity.rebuild import ensure_projection, rebuild
    from audiomuse_ray.store import open_store

    store = open_store(settings.database_url)
    try:
        rebuilt = rebuild(store)
        if rebuilt is None:
            raise IndexNotBuilt("Nothing is analysed yet, so there is no index to build: run jobs/analyze.py first.")
        _coords, method = ensure_projection(store, rebuilt.library)
        return IndexSummary(rebuilt.version, rebuilt.library.size, len(rebuilt.artists), method)
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    try:
        summary = build_all(parse_settings(argv))
    except AudioMuseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"index version {summary.version}: {summary.tracks} tracks, {summary.artists} artists, "
          f"map by {summary.map_method}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Pieces every tab uses: the shared context, song tables with a preview player, song search boxes, and
turning API errors into one sentence on the page."""

from __future__ import annotations

import functools
import os
import stat
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import gradio as gr
import pandas as pd

from audiomuse_ray.ui.client import ApiClient, ApiError

SEARCH_MIN_CHARS = 3
PREVIEW_SECONDS = 30
SONG_COLUMNS = ["▶", "title", "artist", "album", "distance", "item_id"]
PREVIEW_PREFIX = "amr-preview-"
PREVIEW_KEEP_S = 600.0
_AUDIO_SUFFIX = {"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/flac": ".flac", "audio/wav": ".wav",
                 "audio/x-wav": ".wav", "audio/mp4": ".m4a", "audio/aac": ".aac", "audio/webm": ".webm"}


@dataclass
class UiContext:
    """What the tabs share in one UI process: the API client, the music map's coordinates per index version
    (for drawing paths), and the labels of songs seen in searches (so chosen songs keep their names)."""

    client: ApiClient
    map_cache: Any = None
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.map_cache is None:
            from audiomuse_ray.ui.plots import MapCache

            self.map_cache = MapCache()

    def remember(self, rows: list[dict]) -> list[tuple[str, str]]:
        if len(self.labels) > 50_000:
            self.labels.clear()
        choices = [(song_label(r), r["item_id"]) for r in rows if r.get("item_id")]
        self.labels.update((value, label) for label, value in choices)
        return choices


def ok(text: str) -> str:
    return text


def problem(text: str) -> str:
    """Marked in words, not an emoji: a browser without an emoji font shows an empty box."""
    return f"**Problem:** {text}"


def reporting(n_outputs: int) -> Callable:
    """Decorate a handler whose first output is a status Markdown: an ``ApiError`` becomes that sentence
    and the other outputs are left as they are, so a failed call never blanks a table."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any):
            try:
                return fn(*args, **kwargs)
            except ApiError as exc:
                rest = [gr.skip()] * (n_outputs - 1)
                return (problem(str(exc)), *rest) if rest else problem(str(exc))

        return inner

    return wrap


def songs_frame(rows: list[dict], distance: str | None = "distance") -> pd.DataFrame:
    """Rows of the API (``item_id``, ``title``, ``author`` or ``artist``, ``album``, ``distance``) as a table
    whose first column is the play button (select a row to hear it) and whose last is the item id.

    ``distance`` names the column that shows each row's ``distance`` ("distance" from a seed, "step" along a
    path); None leaves the column out, for lists where no distance means anything (a playlist, a query)."""
    columns = [c if c != "distance" else distance for c in SONG_COLUMNS if c != "distance" or distance]
    data = [{"▶": "▶", "title": r.get("title") or "", "artist": r.get("author") or r.get("artist") or "",
             "album": r.get("album") or "", "item_id": r.get("item_id") or "",
             **({distance: round(float(r["distance"]), 4) if r.get("distance") is not None else None}
                if distance else {})} for r in rows]
    return pd.DataFrame(data, columns=columns)


def song_table(label: str, elem_id: str | None = None) -> tuple[gr.Dataframe, gr.Audio]:
    """A read-only song table and, under it, the player that a row's selection fills."""
    table = gr.Dataframe(value=songs_frame([]), label=f"{label} — select a row to play a {PREVIEW_SECONDS} s preview",
                         interactive=False, wrap=True, max_height=420, elem_classes=["song-table"], elem_id=elem_id,
                         column_widths=["48px", "28%", "22%", "20%", "9%", "18%"])
    player = gr.Audio(label="Preview", type="filepath", interactive=False, autoplay=True, elem_classes=["preview"])
    return table, player


def wire_preview(ctx: UiContext, table: gr.Dataframe, player: gr.Audio, status: gr.Markdown) -> None:
    """Selecting a row of ``table`` fetches that song's preview from the API into ``player``."""

    @reporting(2)
    def play(evt: gr.SelectData):
        row = evt.row_value or []
        item_id = row[-1] if len(row) >= len(SONG_COLUMNS) - 1 else ""  # the id is always the last column
        if not item_id:
            return problem("That row has no song to play."), gr.skip()
        return ok(f"Playing a preview of “{row[1]}” by {row[2]}."), preview_file(ctx.client, item_id)

    table.select(play, None, [status, player], show_progress="minimal", api_visibility="private")


def preview_file(client: ApiClient, item_id: str, folder: str | None = None,
                 now: Callable[[], float] = time.time) -> str:
    """Fetch the preview into a temporary file for the player. Gradio serves its own copy (made as the event
    answers), so ours is needed only briefly: each preview first removes ours older than ``PREVIEW_KEEP_S``,
    which a long-running UI would otherwise pile up in the temporary folder, one file per play."""
    body, content_type = client.preview(item_id, PREVIEW_SECONDS)
    suffix = _AUDIO_SUFFIX.get(content_type.split(";")[0].strip(), ".audio")
    folder = folder or tempfile.gettempdir()
    remove_old_previews(folder, now() - PREVIEW_KEEP_S)
    fd, path = tempfile.mkstemp(prefix=PREVIEW_PREFIX, suffix=suffix, dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    return path


def remove_old_previews(folder: str, before: float) -> int:
    """Deletes this user's preview files in ``folder`` last written before ``before`` (a Unix time)."""
    removed, uid = 0, os.getuid()
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(PREVIEW_PREFIX):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and st.st_uid == uid and st.st_mtime < before:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:  # gone meanwhile, or not ours to remove
                continue
    return removed


def song_search(ctx: UiContext, label: str, info: str = "", multiselect: bool = False) -> gr.Dropdown:
    """A box that offers matching songs from the third character typed; its value is the item id (ids)."""
    box = gr.Dropdown(choices=[], value=[] if multiselect else None, label=label, multiselect=multiselect,
                      info=info or f"type {SEARCH_MIN_CHARS}+ letters of a title, artist or album",
                      allow_custom_value=True, filterable=True, interactive=True)

    def suggest(current, evt: gr.KeyUpData):
        query = (evt.input_value or "").strip()
        if len(query) < SEARCH_MIN_CHARS:
            return gr.skip()
        try:
            choices = ctx.remember(ctx.client.search(query, limit=20))
        except ApiError:
            return gr.skip()
        chosen = current if isinstance(current, list) else ([current] if current else [])
        kept = [(ctx.labels.get(i, i), i) for i in chosen if i not in {v for _l, v in choices}]
        return gr.update(choices=kept + choices)

    box.key_up(suggest, box, box, show_progress="hidden", trigger_mode="always_last", queue=False,
               api_visibility="private")
    return box


def song_label(row: dict) -> str:
    return f"{row.get('title') or '?'} — {row.get('author') or row.get('artist') or '?'}"


def ids_of(frame: Any) -> list[str]:
    """The item ids of a song table's current value (a DataFrame, or Gradio's dict form)."""
    if isinstance(frame, pd.DataFrame):
        return [i for i in frame.get("item_id", pd.Series(dtype=str)).tolist() if i]
    if isinstance(frame, dict) and "data" in frame:
        headers = frame.get("headers") or SONG_COLUMNS
        col = headers.index("item_id") if "item_id" in headers else -1
        return [r[col] for r in frame["data"] if col >= 0 and r[col]]
    return []


def playlist_saver(ctx: UiContext, table: gr.Dataframe, status: gr.Markdown, default_name: str) -> None:
    """A name box and a button that save ``table``'s songs as a playlist on the media server."""
    with gr.Row():
        name = gr.Textbox(value=default_name, label="Playlist name", scale=3)
        save = gr.Button("Create playlist", scale=1)

    @reporting(1)
    def create(playlist_name: str, frame: Any) -> str:
        ids = ids_of(frame)
        if not ids:
            return problem("Nothing to save yet: fill the table first.")
        reply = ctx.client.create_playlist(playlist_name.strip(), ids)
        return ok(f"{reply.get('message', 'Playlist created.')} ({len(ids)} songs)")

    save.click(create, [name, table], status, api_visibility="private")

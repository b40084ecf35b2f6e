"""The song tools: Similar songs, Song path (drawn on the music map) and Song alchemy (with its 2-D plot)."""

from __future__ import annotations

import gradio as gr
import numpy as np

from audiomuse_ray.ui import plots
from audiomuse_ray.ui.common import (
    UiContext, ok, playlist_saver, problem, reporting, song_search, song_table, songs_frame, wire_preview,
)


def similar_tab(ctx: UiContext) -> None:
    gr.Markdown("Pick a song; its nearest neighbours by sound come back with their distance (0 = identical).")
    with gr.Row():
        seed = song_search(ctx, "Song")
        n = gr.Slider(1, 100, value=10, step=1, label="How many", info="songs to return")
    with gr.Row():
        dedupe = gr.Checkbox(True, label="Skip duplicates", info="same title and artist, or nearly the same sound")
        mood = gr.Checkbox(False, label="Similar mood too", info="also filter by the mood scores")
        radius = gr.Checkbox(True, label="Radius walk", info="spread the results instead of one tight cluster")
    find = gr.Button("Find similar songs", variant="primary", elem_id="similar-find")
    status = gr.Markdown(elem_id="similar-status")
    table, player = song_table("Similar songs")
    playlist_saver(ctx, table, status, "Similar songs")
    wire_preview(ctx, table, player, status)

    @reporting(2)
    def run(item_id, count, dup, mood_on, radius_on):
        if not item_id:
            return problem("Pick a song first: type three letters and choose one from the list."), gr.skip()
        rows = ctx.client.similar(item_id, int(count), bool(dup), bool(mood_on), bool(radius_on))
        return ok(f"{len(rows)} songs like that one."), songs_frame(rows)

    find.click(run, [seed, n, dedupe, mood, radius], [status, table], api_name="similar_songs")


def path_tab(ctx: UiContext) -> None:
    gr.Markdown("A chain of songs that moves step by step from one sound to another.")
    with gr.Row():
        start = song_search(ctx, "From")
        end = song_search(ctx, "To")
        steps = gr.Slider(2, 100, value=25, step=1, label="Steps", info="songs in the path, both ends included")
    go = gr.Button("Find the path", variant="primary", elem_id="path-find")
    status = gr.Markdown()
    plot = gr.Plot(label="The path on the music map")
    table, player = song_table("Path")
    playlist_saver(ctx, table, status, "Song path")
    wire_preview(ctx, table, player, status)

    @reporting(3)
    def run(a, b, count):
        if not a or not b:
            return problem("Pick both songs first."), gr.skip(), gr.skip()
        reply = ctx.client.path(a, b, int(count))
        rows = reply.get("path") or []
        coords = ctx.map_cache.coords(ctx.client)
        figure = plots.path_figure(ctx.map_cache.background(ctx.client), rows, coords)
        note = (f" Fewer than the {int(count)} asked: a path takes one song per typical step between neighbours "
                "here, so two close songs get a short one rather than near-repeats."
                if 0 < len(rows) < int(count) else "")
        return (ok(f"{len(rows)} songs, total distance {reply.get('total_distance', 0):.3f}.{note}"), figure,
                songs_frame(with_steps(rows), distance="step"))

    go.click(run, [start, end, steps], [status, plot, table], api_name="song_path")


def with_steps(rows: list[dict]) -> list[dict]:
    """Path rows with ``distance`` = the angular distance (1 - cosine, as the index measures) from the song
    before; 0 for the first. Rows without an embedding get none."""
    out, previous = [], None
    for row in rows:
        vector = row.get("embedding_vector")
        step = None
        if vector:
            v = np.asarray(vector, dtype=float)
            v = v / (np.linalg.norm(v) or 1.0)
            step = 0.0 if previous is None else float(1.0 - np.clip(v @ previous, -1.0, 1.0))
            previous = v
        out.append({**row, "distance": step})
    return out


def alchemy_tab(ctx: UiContext) -> None:
    gr.Markdown("Mix songs: results sound like the ones you add and unlike the ones you subtract.")
    with gr.Row():
        add = song_search(ctx, "Add", multiselect=True)
        subtract = song_search(ctx, "Subtract", multiselect=True)
    with gr.Row():
        n = gr.Slider(1, 200, value=50, step=1, label="How many", info="songs to return")
        temperature = gr.Slider(0.0, 5.0, value=1.0, step=0.1, label="Temperature",
                                info="0 = always the closest songs, higher = more variety")
        distance = gr.Slider(0.0, 1.0, value=0.2, step=0.01, label="Subtract distance",
                             info="drop songs closer than this to the subtracted ones")
    go = gr.Button("Mix", variant="primary", elem_id="alchemy-run")
    status = gr.Markdown()
    plot = gr.Plot(label="Results, filtered-out songs and centroids (2-D)")
    table, player = song_table("Alchemy results")
    playlist_saver(ctx, table, status, "Song alchemy")
    wire_preview(ctx, table, player, status)

    @reporting(3)
    def run(add_ids, sub_ids, count, temp, dist):
        add_ids, sub_ids = list(add_ids or []), list(sub_ids or [])
        if not add_ids:
            return problem("Add at least one song."), gr.skip(), gr.skip()
        reply = ctx.client.alchemy(add_ids, sub_ids, int(count), float(temp), float(dist) if sub_ids else None)
        results = reply.get("results") or []
        return (ok(f"{len(results)} songs; {len(reply.get('filtered_out') or [])} filtered out."),
                plots.alchemy_figure(reply), songs_frame(results))

    go.click(run, [add, subtract, n, temperature, distance], [status, plot, table], api_name="song_alchemy")

    with gr.Row():  # keep the mix: a radio plays it again and again (Radios tab)
        anchor_name = gr.Textbox(label="Anchor name", scale=3, elem_id="alchemy-anchor-name",
                                 info="save these songs as an anchor, then make it a radio in the Radios tab")
        keep = gr.Button("Save mix as anchor", scale=1, elem_id="alchemy-anchor-save")

    @reporting(1)
    def save_anchor(name, add_ids, sub_ids):
        if not (name or "").strip() or not add_ids:
            return problem("Add at least one song and give the anchor a name.")
        saved = ctx.client.save_anchor(name.strip(), list(add_ids), list(sub_ids or []))
        return ok(f"Anchor “{saved['name']}” saved: make it a radio in the Radios tab.")

    keep.click(save_anchor, [anchor_name, add, subtract], status, api_visibility="private")

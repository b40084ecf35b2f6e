"""Music map: the library in 2-D (25/50/75/100 % of the songs), coloured by top tag, hover for title and
artist, and a region to turn into a playlist."""

from __future__ import annotations

import gradio as gr

from audiomuse_ray.ui import plots
from audiomuse_ray.ui.common import UiContext, ok, playlist_saver, problem, reporting, song_table, songs_frame, wire_preview


def map_tab(ctx: UiContext) -> None:
    gr.Markdown("Songs that sound alike sit together. Drag to pan, scroll to zoom, hover a point for the song. "
                "Big libraries are sampled for drawing (WebGL); a region takes every song of the chosen share "
                f"(of an even sample of {plots.FETCH_MAX:,} songs in a bigger library).")
    with gr.Row():
        percent = gr.Radio([25, 50, 75, 100], value=100, label="Share of the library",
                           info="fewer songs load faster; above 20,000 the drawing is sampled either way")
        colour = gr.Radio(["top tag", "none"], value="top tag", label="Colour by", info="the song's strongest tag")
        draw = gr.Button("Draw the map", variant="primary", elem_id="map-draw")
    status = gr.Markdown(elem_id="map-status")
    plot = gr.Plot(label="Music map", elem_id="map-plot")
    items = gr.State([])
    with gr.Row():
        x0 = gr.Slider(-1, 1, value=-0.25, step=0.01, label="Region x from")
        x1 = gr.Slider(-1, 1, value=0.25, step=0.01, label="x to")
        y0 = gr.Slider(-1, 1, value=-0.25, step=0.01, label="y from")
        y1 = gr.Slider(-1, 1, value=0.25, step=0.01, label="y to")
    select = gr.Button("Take the songs in this region", elem_id="map-select")
    table, player = song_table("Songs in the region", elem_id="map-region-table")
    playlist_saver(ctx, table, status, "Map region")
    wire_preview(ctx, table, player, status)

    @reporting(3)
    def run(pct, by, a, b, c, d):
        reply = ctx.client.music_map(int(pct), plots.FETCH_MAX)
        points = [i for i in reply.get("items") or [] if i.get("embedding_2d")]
        if not points:
            return problem("The map is empty: run the analysis first."), gr.skip(), gr.skip()
        figure = plots.map_figure(points, by, (a, b, c, d))
        return ok(f"{len(points):,} songs ({reply.get('projection', '?')} projection)."), figure, points

    @reporting(3)
    def take(points, by, a, b, c, d):
        if not points:
            return problem("Draw the map first."), gr.skip(), gr.skip()
        chosen = plots.in_region(points, (a, b, c, d))
        return (ok(f"{len(chosen)} songs in the region."), plots.map_figure(points, by, (a, b, c, d)),
                songs_frame(chosen, distance=None))

    draw.click(run, [percent, colour, x0, x1, y0, y1], [status, plot, items], api_name="music_map")
    select.click(take, [items, colour, x0, x1, y0, y1], [status, plot, table], api_visibility="private")

"""Playlists audiomuse-ray made (clustering, saved results, instant playlists), with their songs."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from audiomuse_ray.ui.common import UiContext, ok, reporting, song_table, songs_frame, wire_preview


def playlists_tab(ctx: UiContext) -> None:
    gr.Markdown("The playlists this service wrote to the media server; pick one to see and hear its songs.")
    refresh = gr.Button("Refresh", elem_id="playlists-refresh")
    status = gr.Markdown()
    overview = gr.Dataframe(pd.DataFrame(columns=["playlist", "songs"]), label="Playlists", interactive=False,
                            elem_id="playlists-table")
    pick = gr.Dropdown([], label="Playlist", info="its songs appear below")
    lists = gr.State({})
    table, player = song_table("Songs")
    wire_preview(ctx, table, player, status)

    @reporting(4)
    def load():
        data = ctx.client.playlists()
        frame = pd.DataFrame([{"playlist": k, "songs": len(v)} for k, v in data.items()], columns=["playlist", "songs"])
        return ok(f"{len(data)} playlists."), frame, gr.update(choices=list(data), value=None), data

    def show(name, data):
        return songs_frame((data or {}).get(name) or [], distance=None)

    refresh.click(load, None, [status, overview, pick, lists], api_name="playlists")
    pick.change(show, [pick, lists], table, api_visibility="private")

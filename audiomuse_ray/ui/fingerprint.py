"""Sonic fingerprint: a playlist from what a user has been listening to (Jellyfin or Navidrome history)."""

from __future__ import annotations

import gradio as gr

from audiomuse_ray.ui.common import UiContext, ok, playlist_saver, reporting, song_table, songs_frame, wire_preview


def fingerprint_tab(ctx: UiContext) -> tuple:
    gr.Markdown("Songs that sound like your recent favourites. Leave the user fields empty to use the server's "
                "own media-server account; a local music folder keeps no history.")
    with gr.Row():
        user = gr.Textbox(label="User", info="Jellyfin user id or Navidrome user name (default: the server's)")
        secret = gr.Textbox(label="Token or password", type="password", info="Jellyfin token or Navidrome password")
        n = gr.Slider(1, 200, value=50, step=1, label="How many", info="songs in the playlist")
    go = gr.Button("Make my fingerprint playlist", variant="primary", elem_id="fingerprint-run")
    status = gr.Markdown()
    table, player = song_table("Fingerprint")
    playlist_saver(ctx, table, status, "Sonic fingerprint")
    wire_preview(ctx, table, player, status)

    @reporting(2)
    def run(who, key, count):
        provider = ctx.client.config().get("provider", "")
        rows = ctx.client.fingerprint(int(count), user=who.strip(), token=key if provider == "jellyfin" else "",
                                      password=key if provider != "jellyfin" else "")
        if not rows:
            return ok("No listening history found for that user, so there is nothing to build on yet."), songs_frame([])
        return ok(f"{len(rows)} songs."), songs_frame(rows)

    go.click(run, [user, secret, n], [status, table], api_name="sonic_fingerprint")

    def defaults() -> str:
        try:
            cfg = ctx.client.config()
        except Exception:  # noqa: BLE001  (the banner reports a dead server)
            return ""
        return cfg.get("jellyfin_user_id") or cfg.get("subsonic_user") or ""

    return defaults, user

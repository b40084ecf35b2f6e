"""Sonic fingerprint: a playlist from what a user has been listening to (the media server's history).

Which user and which secret to ask for is the provider's to say: the tab reads it from the API
(``ApiClient.provider_info``), never from the provider's name.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from audiomuse_ray.ui.common import UiContext, ok, playlist_saver, reporting, song_table, songs_frame, wire_preview


def history_credentials(info: dict[str, Any], user: str, key: str) -> dict[str, str]:
    """``ApiClient.fingerprint``'s user, token and password from the two fields, as the provider reads them:
    the key goes where ``history_user.secret`` says (``token`` or ``password``), to both where that is
    unknown (an older server), and nowhere for a provider without history (the server says why)."""
    who = (info or {}).get("history_user")
    if who is None:
        return {"user": user.strip(), "token": "", "password": ""}
    kind = who.get("secret", "")
    if not kind and not who.get("user_label"):  # the server's own counts (Lyrion): nothing to send the key to
        return {"user": user.strip(), "token": "", "password": ""}
    return {"user": user.strip(), "token": key if kind in ("token", "") else "",
            "password": key if kind in ("password", "") else ""}


def field_labels(info: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``gr.update`` arguments for (the user field, the secret field): the provider's labels, its default
    user, and only the fields it reads (Plex names a user by token alone; Lyrion counts plays for the whole
    server, so it reads neither; a folder keeps no history)."""
    who = (info or {}).get("history_user")
    if who is None:
        title = (info or {}).get("title") or "This media provider"
        return ({"label": "User", "value": "", "interactive": False,
                 "info": f"{title} keeps no listening history, so there is no fingerprint to make."},
                {"visible": False})
    default = who.get("default_user") or ""
    return ({"label": who.get("user_label") or "User", "value": default, "visible": bool(who.get("user_label")),
             "interactive": True, "info": "empty: the server's own account"},
            {"label": who.get("secret_label") or "Token or password", "visible": who.get("secret", "?") != ""})


def fingerprint_tab(ctx: UiContext) -> tuple:
    gr.Markdown("Songs that sound like your recent favourites. Leave the user fields empty to use the server's "
                "own media-server account.")
    with gr.Row():
        user = gr.Textbox(label="User", info="default: the server's own account")
        secret = gr.Textbox(label="Token or password", type="password", info="for another user than the default")
        n = gr.Slider(1, 200, value=50, step=1, label="How many", info="songs in the playlist")
    go = gr.Button("Make my fingerprint playlist", variant="primary", elem_id="fingerprint-run")
    status = gr.Markdown()
    table, player = song_table("Fingerprint")
    playlist_saver(ctx, table, status, "Sonic fingerprint")
    wire_preview(ctx, table, player, status)

    @reporting(2)
    def run(who, key, count):
        rows = ctx.client.fingerprint(int(count), **history_credentials(ctx.client.provider_info(), who, key))
        if not rows:
            return ok("No listening history found for that user, so there is nothing to build on yet."), songs_frame([])
        return ok(f"{len(rows)} songs."), songs_frame(rows)

    go.click(run, [user, secret, n], [status, table], api_name="sonic_fingerprint")

    def defaults():
        try:
            user_field, secret_field = field_labels(ctx.client.provider_info())
        except Exception:  # noqa: BLE001  (the banner reports a dead server)
            return gr.skip(), gr.skip()
        return gr.update(**user_field), gr.update(**secret_field)

    return defaults, [user, secret]

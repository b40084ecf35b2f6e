"""Radios: a saved mix (an anchor) whose playlist is made again on every run and replaced in place on the
media server. Save a mix as an anchor (here or from Song alchemy), make it a radio, preview its next
playlist, run it now; the Schedules tab runs radios on a timetable."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from audiomuse_ray.ui.common import (UiContext, ok, problem, reporting, song_search, song_table, songs_frame,
                                     wire_preview)

ANCHOR_COLUMNS = ["id", "name", "songs added", "subtracted", "radio"]
RADIO_COLUMNS = ["id", "name", "songs", "temperature", "repeat share", "skip days", "enabled", "last run",
                 "playlist id"]


def when(iso: str | None) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM' (UTC as the server stamps it), '' for none."""
    return (iso or "")[:16].replace("T", " ")


def anchors_frame(anchors: list[dict], radios: list[dict]) -> pd.DataFrame:
    with_radio = {r["anchor_id"]: r for r in radios}
    rows = [{"id": a["id"], "name": a["name"],
             "songs added": sum(1 for i in a.get("items") or [] if i.get("op") != "SUBTRACT") or
             ("a saved vector" if a.get("has_centroid") else 0),
             "subtracted": sum(1 for i in a.get("items") or [] if i.get("op") == "SUBTRACT"),
             "radio": "yes" if a["id"] in with_radio else ""} for a in anchors]
    return pd.DataFrame(rows, columns=ANCHOR_COLUMNS)


def radios_frame(radios: list[dict]) -> pd.DataFrame:
    rows = [{"id": r["id"], "name": r["name"], "songs": r["n_results"], "temperature": r["temperature"],
             "repeat share": r.get("max_repeat_share"), "skip days": r.get("skip_played_days"),
             "enabled": "on" if r["enabled"] else "off",
             "last run": f"{when(r.get('last_run_at'))} ({r.get('last_song_count', 0)} songs)" if r.get("last_run_at") else "never",
             "playlist id": r.get("provider_playlist_id") or ""} for r in radios]
    return pd.DataFrame(rows, columns=RADIO_COLUMNS)


def _choices(rows: list[dict]) -> list[tuple[str, int]]:
    return [(f"{r['name']} (#{r['id']})", r["id"]) for r in rows]


def radios_tab(ctx: UiContext) -> tuple[Any, list]:
    """Builds the tab; returns (loader, its outputs) for the tab's select event."""
    gr.Markdown("A **radio** plays a saved mix (an **anchor**: the songs you added and subtracted in Song alchemy). "
                "Each run draws a new playlist from the mix and replaces the radio's playlist on the media server "
                "in place, so a playlist you pinned in your player stays and only its songs change. Run radios here "
                "or on a timetable (Schedules tab, task *alchemy_radio*).")
    status = gr.Markdown(elem_id="radios-status")
    with gr.Accordion("New anchor from songs", open=False):
        with gr.Row():
            name = gr.Textbox(label="Anchor name", scale=1)
            add = song_search(ctx, "Songs to add", multiselect=True)
            subtract = song_search(ctx, "Songs to subtract", multiselect=True)
        save_anchor = gr.Button("Save anchor", elem_id="anchor-save")
    anchors = gr.Dataframe(value=anchors_frame([], []), label="Anchors", interactive=False, elem_id="anchors-table",
                           max_height=220, column_widths=["8%", "44%", "16%", "16%", "16%"])
    gr.Markdown("### Make an anchor a radio")
    with gr.Row():
        anchor = gr.Dropdown(label="Anchor", choices=[], elem_id="radio-anchor")
        n = gr.Slider(1, 200, value=25, step=1, label="Songs", info="per playlist")
        temperature = gr.Slider(0.0, 5.0, value=1.0, step=0.1, label="Temperature",
                                info="0 = the same closest songs each run, higher = fresher")
    with gr.Row():
        repeat = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Repeat share",
                           info="at most this share of the last run's songs comes back")
        skip = gr.Number(value=0, precision=0, minimum=0, maximum=3650, label="Skip songs played in the last N days",
                         info="needs a media server with play history; 0 = never")
        enabled = gr.Checkbox(True, label="Enabled", info="scheduled runs include it")
    save_radio = gr.Button("Save radio", variant="primary", elem_id="radio-save")
    radios = gr.Dataframe(value=radios_frame([]), label="Radios", interactive=False, elem_id="radios-table",
                          max_height=260, column_widths=["5%", "17%", "7%", "10%", "10%", "8%", "7%", "23%", "13%"])
    with gr.Row():
        radio = gr.Dropdown(label="Radio", choices=[], elem_id="radio-pick", scale=2)
        preview = gr.Button("Preview next playlist", elem_id="radio-preview")
        run = gr.Button("Run now", variant="primary", elem_id="radio-run")
        run_all = gr.Button("Run every enabled radio", elem_id="radios-run-all")
        toggle = gr.Button("Enable / disable", elem_id="radio-toggle")
        delete = gr.Button("Delete radio", variant="stop", elem_id="radio-delete")
    table, player = song_table("Next playlist (a preview: nothing is written)", elem_id="radio-songs")
    wire_preview(ctx, table, player, status)

    def listing():
        found_anchors, found_radios = ctx.client.anchors(), ctx.client.radios()
        return (anchors_frame(found_anchors, found_radios), radios_frame(found_radios),
                gr.update(choices=_choices(found_anchors)), gr.update(choices=_choices(found_radios)))

    lists = [anchors, radios, anchor, radio]

    @reporting(5)
    def load():
        return ok(""), *listing()

    @reporting(5)
    def on_save_anchor(anchor_name, add_ids, sub_ids):
        if not (anchor_name or "").strip() or not add_ids:
            return problem("Give the anchor a name and add at least one song."), *[gr.skip()] * 4
        saved = ctx.client.save_anchor(anchor_name.strip(), list(add_ids), list(sub_ids or []))
        return ok(f"Anchor “{saved['name']}” saved: make it a radio below."), *listing()

    @reporting(5)
    def on_save_radio(anchor_id, count, temp, share, days, on):
        if anchor_id is None:
            return problem("Choose an anchor first (save one from songs above or in Song alchemy)."), *[gr.skip()] * 4
        saved = ctx.client.save_radio(anchor_id, int(count), float(temp), bool(on), float(share), int(days or 0))
        return ok(f"Radio “{saved['name']}” saved: preview it or run it now."), *listing()

    @reporting(2)
    def on_preview(radio_id):
        if radio_id is None:
            return problem("Choose a radio first."), gr.skip()
        reply = ctx.client.preview_radio(radio_id)
        played = reply["radio"]
        notes = [f"{len(reply['results'])} songs would play"]
        if played.get("last_run_at"):
            notes.append(f"{reply['repeated']} of them from the last run")
        if reply.get("skipped_recent"):
            notes.append(f"{reply['skipped_recent']} played recently and skipped")
        if reply.get("missing"):
            notes.append(f"{len(reply['missing'])} of the anchor's songs are no longer in the library")
        text = "Next playlist of “" + played["name"] + "”: " + ", ".join(notes) + "."
        if played["temperature"] > 0:
            text += (f" With temperature {played['temperature']:g} every run draws its own songs, so a run picks "
                     "songs like these rather than exactly these.")
        return ok(text), songs_frame(reply["results"])

    def summary(reply: dict) -> str:
        parts = [f"{reply['message']} ({reply['radios_enabled']} enabled)"]
        for done in reply.get("radios") or []:
            if done.get("error"):
                parts.append(f"“{done['name']}” failed: {done['error']}")
            else:
                parts.append(f"“{done['name']}”: {done['songs']} songs written to its playlist (id "
                             f"{done['playlist_id']}), {done['repeated']} of them kept from the last run")
        return " ".join(parts) if len(parts) == 1 else parts[0] + "\n\n" + "\n\n".join(f"- {p}" for p in parts[1:])

    @reporting(6)
    def on_run(radio_id):  # the preview is stale once a run drew its own songs: cleared
        if radio_id is None:
            return problem("Choose a radio first."), *[gr.skip()] * 5
        return ok(summary(ctx.client.run_radios([int(radio_id)]))), *listing(), songs_frame([])

    @reporting(6)
    def on_run_all():
        return ok(summary(ctx.client.run_radios())), *listing(), songs_frame([])

    @reporting(5)
    def on_toggle(radio_id):
        if radio_id is None:
            return problem("Choose a radio first."), *[gr.skip()] * 4
        current = next((r for r in ctx.client.radios() if r["id"] == radio_id), None)
        if current is None:
            return problem("That radio is gone: refresh the list."), *listing()
        changed = ctx.client.update_radio(radio_id, enabled=not current["enabled"])
        return ok(f"Radio “{changed['name']}” is {'on' if changed['enabled'] else 'off'}."), *listing()

    @reporting(5)
    def on_delete(radio_id):
        if radio_id is None:
            return problem("Choose a radio first."), *[gr.skip()] * 4
        ctx.client.delete_radio(radio_id)
        return ok("Radio deleted (its anchor stays)."), *listing()

    outputs = [status, *lists]
    save_anchor.click(on_save_anchor, [name, add, subtract], outputs, api_visibility="private")
    save_radio.click(on_save_radio, [anchor, n, temperature, repeat, skip, enabled], outputs, api_name="save_radio")
    preview.click(on_preview, radio, [status, table], api_name="preview_radio")
    run.click(on_run, radio, [*outputs, table], api_name="run_radio")
    run_all.click(on_run_all, None, [*outputs, table], api_visibility="private")
    toggle.click(on_toggle, radio, outputs, api_visibility="private")
    delete.click(on_delete, radio, outputs, api_visibility="private")
    return load, outputs

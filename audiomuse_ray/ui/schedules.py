"""Schedules: the cron table (AudioMuse-AI's ``/api/cron``) that the scheduler actor fires: add a row,
switch it on or off, remove it, and see the last runs and what became of each."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import gradio as gr
import pandas as pd

from audiomuse_ray.ui.common import UiContext, ok, problem, reporting
from audiomuse_ray.ui.radios import when

TASK_TYPES = [("Analysis of new albums", "analysis"), ("Clustering into playlists", "clustering"),
              ("Radios (every enabled one)", "alchemy_radio"), ("Sonic fingerprint playlists", "sonic_fingerprint")]
OPTION_HINTS = {"analysis": '{"num_recent_albums": 0}', "clustering": "{}", "alchemy_radio": "{}",
                "sonic_fingerprint": '{"n": 100}'}
ROW_COLUMNS = ["id", "name", "task", "cron", "enabled", "next run", "last run", "last outcome"]
RUN_COLUMNS = ["tick", "schedule", "outcome", "task id", "message"]


def _stamp(unix: float | None) -> str:
    return "" if unix is None else datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    data = [{"id": r["id"], "name": r["name"], "task": r["task_type"], "cron": r["cron_expr"],
             "enabled": "on" if r["enabled"] else "off", "next run": _stamp(r.get("next_run")),
             "last run": _stamp(r.get("last_run")) or "never", "last outcome": r.get("last_status") or ""}
            for r in rows]
    return pd.DataFrame(data, columns=ROW_COLUMNS)


def runs_frame(runs: list[dict], rows: list[dict]) -> pd.DataFrame:
    names = {r["id"]: r["name"] for r in rows}
    data = [{"tick": when(r["tick"]) + " UTC", "schedule": names.get(r["schedule_id"], f"#{r['schedule_id']}"),
             "outcome": r["status"], "task id": r.get("task_id") or "", "message": r.get("message") or ""}
            for r in runs]
    return pd.DataFrame(data, columns=RUN_COLUMNS)


def schedules_tab(ctx: UiContext) -> tuple[Any, list]:
    """Builds the tab; returns (loader, its outputs) for the tab's select event."""
    gr.Markdown("Jobs that run on their own: each row is a 5-field cron expression (minute hour day month weekday, "
                "in the server's time zone, `AUDIOMUSE_TIMEZONE`) and the job it starts. The scheduler runs inside "
                "the Ray cluster and starts each tick once; a tick missed while the service was down runs once "
                "when it is back. Examples: `0 3 * * *` every night at 3:00, `*/30 * * * *` every half hour, "
                "`0 6 * * MON` Monday mornings.")
    status = gr.Markdown(elem_id="schedules-status")
    table = gr.Dataframe(value=rows_frame([]), label="Schedules", interactive=False, elem_id="schedules-table",
                         max_height=260)
    with gr.Row():
        pick = gr.Dropdown(label="Schedule", choices=[], elem_id="schedule-pick", scale=2)
        toggle = gr.Button("Enable / disable", elem_id="schedule-toggle")
        remove = gr.Button("Remove", variant="stop", elem_id="schedule-remove")
        refresh = gr.Button("Refresh", elem_id="schedules-refresh")
    gr.Markdown("### Add a schedule")
    with gr.Row():
        name = gr.Textbox(label="Name", value="Nightly analysis", elem_id="schedule-name")
        task = gr.Dropdown(label="Job", choices=TASK_TYPES, value="analysis", elem_id="schedule-task")
        cron_expr = gr.Textbox(label="When (cron)", value="0 3 * * *", elem_id="schedule-cron")
        enabled = gr.Checkbox(True, label="Enabled")
    options = gr.Code(value=OPTION_HINTS["analysis"], language="json", label="Options (JSON)", lines=2,
                      elem_id="schedule-options")
    save = gr.Button("Save schedule", variant="primary", elem_id="schedule-save")
    runs = gr.Dataframe(value=runs_frame([], []), label="Last runs", interactive=False, elem_id="schedule-runs",
                        max_height=300)

    def listing():
        rows = ctx.client.schedules()
        return (rows_frame(rows), gr.update(choices=[(f"{r['name']} (#{r['id']})", r["id"]) for r in rows]),
                runs_frame(ctx.client.schedule_runs(20), rows))

    outputs = [status, table, pick, runs]

    @reporting(4)
    def load():
        return ok(""), *listing()

    @reporting(4)
    def on_save(row_name, task_type, expr, on, raw_options):
        try:
            parsed = json.loads(raw_options or "{}")
        except ValueError:
            return problem("The options are not JSON: write an object such as {} or {\"n\": 100}."), *[gr.skip()] * 3
        saved = ctx.client.save_schedule({"name": (row_name or "").strip(), "task_type": task_type,
                                          "cron_expr": expr, "enabled": bool(on), "options": parsed})
        return ok(f"Schedule #{saved['id']} saved."), *listing()

    @reporting(4)
    def on_toggle(schedule_id):
        if schedule_id is None:
            return problem("Choose a schedule first."), *[gr.skip()] * 3
        row = next((r for r in ctx.client.schedules() if r["id"] == schedule_id), None)
        if row is None:
            return problem("That schedule is gone."), *listing()
        ctx.client.save_schedule({**{k: row[k] for k in ("id", "name", "task_type", "cron_expr", "options")},
                                  "enabled": not row["enabled"]})
        return ok(f"“{row['name']}” is {'off' if row['enabled'] else 'on'}."), *listing()

    @reporting(4)
    def on_remove(schedule_id):
        if schedule_id is None:
            return problem("Choose a schedule first."), *[gr.skip()] * 3
        ctx.client.delete_schedule(schedule_id)
        return ok("Schedule removed."), *listing()

    task.change(lambda t: OPTION_HINTS.get(t, "{}"), task, options, show_progress="hidden", api_visibility="private")
    save.click(on_save, [name, task, cron_expr, enabled, options], outputs, api_name="save_schedule")
    toggle.click(on_toggle, pick, outputs, api_visibility="private")
    remove.click(on_remove, pick, outputs, api_visibility="private")
    refresh.click(load, None, outputs, api_visibility="private")
    return load, outputs

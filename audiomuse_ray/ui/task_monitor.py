"""Tasks: the active job and the recent ones with status, progress, log tail and cancel; and the pieces the
Analysis and Clustering tabs use to show their own job's progress. One poll (``TaskPoll``) feeds them all."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from audiomuse_ray.ui.client import ApiClient, ApiError
from audiomuse_ray.ui.common import UiContext, ok, problem, reporting

POLL_S = 2.0
# a task's type as the jobs write it, and as AudioMuse-AI's start routes name it in their reply
ANALYSIS, CLUSTERING = ("analysis", "main_analysis"), ("clustering", "main_clustering")
ACTIVE = ("PENDING", "STARTED", "PROGRESS")
RECENT = 10  # jobs listed on the Tasks tab


@dataclass(frozen=True)
class TaskPoll:
    """What one timer tick learned: the active task ({} when none), the last task, the recent ones (newest
    first), or why it could not."""

    active: dict
    last: dict
    error: str = ""
    recent: tuple[dict, ...] = ()

    @classmethod
    def fetch(cls, client: ApiClient, limit: int = RECENT) -> "TaskPoll":
        """One call of ``/api/tasks`` (the active and the last task are in it); a server without that route
        (an older audiomuse-ray) is asked for the active and the last task instead."""
        try:
            try:
                recent = tuple(client.recent_tasks(limit) or ())
            except ApiError as exc:
                if exc.status != 404:
                    raise
                return cls(client.active_task() or {}, client.last_task() or {})
        except ApiError as exc:
            return cls({}, {}, str(exc))
        active = next((t for t in recent if t.get("status") in ACTIVE), {})
        return cls(active, recent[0] if recent else {}, recent=recent)

    def of_type(self, task_types: tuple[str, ...]) -> dict:
        """The active task of that type, else the newest one of that type, else {}."""
        for task in (self.active, *self.recent, self.last):
            if task.get("task_type") in task_types and task.get("task_id"):
                return task
        return {}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_html(task: dict, what: str) -> str:
    """A progress bar with the task's state, counts and ETA, or a line saying there is none."""
    if not task:
        return f"<p class='amr-idle'>No {what} has run yet.</p>"
    state = task.get("status") or task.get("state") or "?"
    pct = 100 if state == "SUCCESS" else int(task.get("progress") or 0)
    d = task.get("details") or {}
    facts = []
    if "total" in d:
        facts.append(f"{d.get('done', 0)} of {d['total']} tracks to analyse")
    for key, label in (("analysed", "analysed"), ("skipped", "skipped (done before)"), ("failed", "failed")):
        if key in d:
            facts.append(f"{d[key]} {label}")
    if "runs_total" in d:
        facts.append(f"{d.get('runs_done', 0)} of {d['runs_total']} runs")
    if d.get("best_score") is not None:
        facts.append(f"best score {float(d['best_score']):.3f}")
    if state in ACTIVE and d.get("eta_s") is not None:
        facts.append(f"about {duration(d['eta_s'])} left")
    facts.append(f"running {duration(task.get('running_time_seconds'))}" if state in ACTIVE
                 else f"took {duration(task.get('running_time_seconds'))}")
    if d.get("error"):
        facts.append(f"error: {d['error']}")
    return (f"<div class='amr-task' data-state='{html.escape(state)}'><b>{html.escape(what.capitalize())} "
            f"<code>{html.escape(str(task.get('task_id', ''))[:8])}</code>: {html.escape(state)}</b> "
            f"<progress value='{pct}' max='100'></progress> {pct} %<br>{html.escape(' · '.join(facts))}</div>")


def log_tail(task: dict) -> str:
    lines = (task.get("details") or {}).get("log") or []
    return "\n".join(str(x) for x in lines) or "(no log yet)"


def failed_lines(task: dict) -> str:
    """The files the analysis could not use, from the task log's album lines ("Artist — Album: 9 analysed,
    1 failed (file.mp3: UnreadableAudio)"); the job's own summary ("done: ... failed ...") names no file."""
    out = []
    for line in (task.get("details") or {}).get("log") or []:
        text = str(line)
        head, marker, files = text.partition(" failed (")
        if not marker or not files.endswith(")"):
            continue
        album = head.split(": ", 1)[0]
        album = album.split(" ", 1)[1] if album[:2].isdigit() and ":" in album[:8] else album  # "12:01:02 Artist"
        out += [f"- {html.escape(album)}: {html.escape(f.strip())}" for f in files[:-1].split("; ") if f.strip()]
    return "\n".join(out) or "No failed files in the latest log lines."


def cancel_active(client: ApiClient, task_types: tuple[str, ...] = ()) -> str:
    active = client.active_task() or {}
    if not active.get("task_id") or (task_types and active.get("task_type") not in task_types):
        return problem("Nothing to cancel: no such job is running.")
    reply = client.cancel(active["task_id"])
    return ok(reply.get("message", "Cancellation requested."))


def recent_html(tasks: tuple[dict, ...] | list[dict]) -> str:
    """The recent jobs as a table, newest first: when, what, state, progress, how long, the last log line."""
    if not tasks:
        return "<p class='amr-idle'>No job has run yet.</p>"
    rows = []
    for t in tasks:
        state = str(t.get("status") or "?")
        pct = 100 if state == "SUCCESS" else int(t.get("progress") or 0)
        started = str(t.get("created_at") or "")[:19].replace("T", " ")
        lines = (t.get("details") or {}).get("log") or []
        took = duration(t.get("running_time_seconds"))
        rows.append(
            f"<tr data-task-id='{html.escape(str(t.get('task_id', '')))}' data-state='{html.escape(state)}'>"
            f"<td>{html.escape(started)}</td><td>{html.escape(str(t.get('task_type') or '?'))} "
            f"<code>{html.escape(str(t.get('task_id', ''))[:8])}</code></td><td><b>{html.escape(state)}</b>"
            f"{' (cancel asked)' if t.get('cancel_requested') and state in ACTIVE else ''}</td>"
            f"<td><progress value='{pct}' max='100'></progress> {pct} %</td>"
            f"<td>{'running ' if state in ACTIVE else ''}{html.escape(took)}</td>"
            f"<td>{html.escape(str(lines[-1]) if lines else '')}</td></tr>")
    return ("<table class='amr-recent'><thead><tr><th>started (UTC)</th><th>job</th><th>state</th><th>progress</th>"
            "<th>time</th><th>last log line</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def tasks_tab(ctx: UiContext) -> tuple[gr.HTML, gr.HTML, gr.Textbox]:
    gr.Markdown("Jobs started here, from the command line or by `ray job submit` all show up here; "
                "the page refreshes every two seconds.")
    status = gr.Markdown()
    active = gr.HTML(elem_id="tasks-active")
    log = gr.Textbox(label="Log of the running job, else of the last one (last lines)", lines=10, max_lines=14,
                     interactive=False, elem_id="tasks-log")
    cancel = gr.Button("Cancel the running job", variant="stop", elem_id="tasks-cancel")
    cancel.click(reporting(1)(lambda: cancel_active(ctx.client)), None, status, api_name="cancel_job")
    gr.Markdown(f"**Recent jobs** (the last {RECENT}, newest first)")
    recent = gr.HTML(elem_id="tasks-recent")
    return active, recent, log


def render_tasks(poll: TaskPoll) -> tuple[str, str, str]:
    """(the active job's progress, the recent jobs, the log tail of the active job or else the last one)."""
    if poll.error:
        return f"<p class='amr-error'><b>Problem:</b> {html.escape(poll.error)}</p>", "", ""
    active = progress_html(poll.active, "active job") if poll.active else "<p>No job is running.</p>"
    if poll.recent:
        listed = recent_html(poll.recent)
    else:  # an older server without /api/tasks: the last job alone
        listed = progress_html(poll.last, f"last job ({poll.last.get('task_type') or 'none'})") if poll.last.get("task_id") else ""
    return active, listed, log_tail(poll.active or poll.last)

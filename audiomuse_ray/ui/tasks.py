"""Tasks: the active and the last job with status, progress, log tail and cancel; and the pieces the
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


@dataclass(frozen=True)
class TaskPoll:
    """What one timer tick learned: the active task ({} when none), the last task, or why it could not."""

    active: dict
    last: dict
    error: str = ""

    @classmethod
    def fetch(cls, client: ApiClient) -> "TaskPoll":
        try:
            return cls(client.active_task() or {}, client.last_task() or {})
        except ApiError as exc:
            return cls({}, {}, str(exc))

    def of_type(self, task_types: tuple[str, ...]) -> dict:
        """The active task of that type, else the last one if it was of that type, else {}."""
        for task in (self.active, self.last):
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
        facts.append(f"{d.get('done', 0)} of {d['total']} tracks")
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
    """The task log's lines about files the analysis could not use (they name the files)."""
    lines = [str(x) for x in (task.get("details") or {}).get("log") or [] if "failed" in str(x)]
    return "\n".join(f"- {html.escape(x)}" for x in lines) or "No failed files in the latest log lines."


def cancel_active(client: ApiClient, task_types: tuple[str, ...] = ()) -> str:
    active = client.active_task() or {}
    if not active.get("task_id") or (task_types and active.get("task_type") not in task_types):
        return problem("Nothing to cancel: no such job is running.")
    reply = client.cancel(active["task_id"])
    return ok(reply.get("message", "Cancellation requested."))


def tasks_tab(ctx: UiContext) -> tuple[gr.HTML, gr.HTML, gr.Textbox]:
    gr.Markdown("Jobs started here, from the command line or by `ray job submit` all show up here; "
                "the page refreshes every two seconds.")
    status = gr.Markdown()
    active = gr.HTML(elem_id="tasks-active")
    last = gr.HTML(elem_id="tasks-last")
    log = gr.Textbox(label="Log (last lines)", lines=10, max_lines=14, interactive=False, elem_id="tasks-log")
    cancel = gr.Button("Cancel the running job", variant="stop", elem_id="tasks-cancel")
    cancel.click(reporting(1)(lambda: cancel_active(ctx.client)), None, status, api_name="cancel_job")
    return active, last, log


def render_tasks(poll: TaskPoll) -> tuple[str, str, str]:
    if poll.error:
        return f"<p class='amr-error'><b>Problem:</b> {html.escape(poll.error)}</p>", "", ""
    active = progress_html(poll.active, "active job") if poll.active else "<p>No job is running.</p>"
    last = progress_html(poll.last, f"last job ({poll.last.get('task_type') or 'none'})") if poll.last.get("task_id") else ""
    return active, last, log_tail(poll.active or poll.last)

"""Analysis: start (recent albums or all), cancel, live progress and the files that failed."""

from __future__ import annotations

import gradio as gr

from audiomuse_ray.ui.common import UiContext, ok, reporting
from audiomuse_ray.ui.task_monitor import ANALYSIS, TaskPoll, cancel_active, failed_lines, progress_html


def analysis_tab(ctx: UiContext) -> tuple[gr.HTML, gr.Markdown]:
    gr.Markdown("Listen to the library: every new track gets its sound fingerprint, tempo, key and moods. "
                "Tracks already analysed are skipped; the job runs on the Ray cluster and goes on if you close the page.")
    with gr.Row():
        recent = gr.Number(0, label="Recent albums", precision=0, minimum=0,
                           info="only the N most recently added albums; 0 = the whole library", elem_id="analysis-recent")
        workers = gr.Number(0, label="Workers", precision=0, minimum=0, elem_id="analysis-workers",
                            info="analysis actors; 0 = the server's setting (one per CPU of the cluster)")
    with gr.Row():
        start = gr.Button("Start analysis", variant="primary", elem_id="analysis-start")
        cancel = gr.Button("Cancel analysis", variant="stop", elem_id="analysis-cancel")
    status = gr.Markdown(elem_id="analysis-status")
    panel = gr.HTML(elem_id="analysis-progress")
    gr.Markdown("**Files that could not be analysed** (from the latest log lines)")
    errors = gr.Markdown(elem_id="analysis-errors")

    @reporting(1)
    def begin(n, w) -> str:
        reply = ctx.client.start_analysis(int(n or 0), int(w or 0))
        return ok(f"Analysis started (task {str(reply.get('task_id'))[:8]}); progress shows below.")

    start.click(begin, [recent, workers], status, api_name="start_analysis")
    cancel.click(reporting(1)(lambda: cancel_active(ctx.client, ANALYSIS)), None, status, api_name="cancel_analysis")
    return panel, errors


def render_analysis(poll: TaskPoll) -> tuple[str, str]:
    task = poll.of_type(ANALYSIS)
    return progress_html(task, "analysis"), failed_lines(task) if task else ""

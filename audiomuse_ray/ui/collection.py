"""Collection: share this library's analyses with a hub and take the ones it confirms, after the owner's
explicit consent.

The tab shows the server's own statement of what a sync shares and what never leaves
(``GET /api/collection/consent``: made from the record's fields, so the page cannot promise less than is
sent), and starts nothing before the consent tick. The server keeps the consent (``PUT``), for the
statement it was given to: it is the instance's data, so every page and replica sees the same answer and
its date, and a changed statement asks again. Then hub URL, hub token (sent with the start, kept nowhere),
recent albums, start and cancel, and the sync's progress polled like the Analysis tab's.
"""

from __future__ import annotations

import html

import gradio as gr

from audiomuse_ray.ui.client import ApiError
from audiomuse_ray.ui.common import UiContext, ok, problem, reporting
from audiomuse_ray.ui.task_monitor import ACTIVE, POLL_S, cancel_active, duration

SYNC = ("collection_sync", "main_collection_sync")
COUNTS = (("pulled", "pulled from the hub"), ("pushed", "pushed"), ("push_stored", "new to the hub"),
          ("analysed", "analysed here"), ("copied", "copied from a local duplicate"),
          ("skipped", "analysed here before"), ("failed", "failed"))


def statement_markdown(consent: dict) -> str:
    shared = "\n".join(f"- **{html.escape(s['fields'])}**: {html.escape(s['what'])}" for s in consent.get("shared", []))
    never = ", ".join(html.escape(n) for n in consent.get("never", []))
    return (f"**What a sync shares, per track:**\n{shared}\n\n**Never shared:** {never}.\n\n"
            f"{html.escape(consent.get('hub_keeps', ''))}")


def consent_note(consent: dict) -> str:
    if consent.get("consented"):
        return (f"Consent given on {str(consent.get('given_at') or '')[:16].replace('T', ' ')} UTC for this "
                "statement. Untick the box to withdraw it.")
    return "Tick the box to consent; nothing is shared before you do."


def sync_html(task: dict) -> str:
    """The sync's state, progress bar and counts, or a line saying none has run."""
    if not task.get("task_id"):
        return "<p class='amr-idle'>No collection sync has run yet.</p>"
    state = str(task.get("status") or task.get("state") or "?")
    pct = 100 if state == "SUCCESS" else int(task.get("progress") or 0)
    d = task.get("details") or {}
    facts = [f"hub {d['hub']}"] if d.get("hub") else []
    if "total" in d:
        facts.append(f"{d.get('done', 0)} of {d['total']} tracks")
    facts += [f"{d[k]} {label}" for k, label in COUNTS if d.get(k)]
    if state in ACTIVE and d.get("eta_s") is not None:
        facts.append(f"about {duration(d['eta_s'])} left")
    facts.append(("running " if state in ACTIVE else "took ") + duration(task.get("running_time_seconds")))
    error = f"<br><b>Problem:</b> {html.escape(str(d['error']))}" if d.get("error") else ""
    return (f"<div class='amr-task' data-state='{html.escape(state)}'><b>Sync "
            f"<code>{html.escape(str(task['task_id'])[:8])}</code>: {html.escape(state)}</b> "
            f"<progress value='{pct}' max='100'></progress> {pct} %<br>{html.escape(' · '.join(facts))}{error}</div>")


def collection_tab(ctx: UiContext) -> None:
    with gr.Tab("Collection", id="collection") as tab:
        gr.Markdown("Sync with a **collection hub** (an audiomuse-ray run by someone you trust): for each track of "
                    "the chosen albums, this server sends the analysis it has and takes the hub's analysis of the "
                    "same recording, so music someone already analysed is not analysed again. A hub's analysis is "
                    "used only when the track's own audio fingerprint confirms it is the same recording; the rest "
                    "is analysed here. The job runs on the Ray cluster and goes on if you close the page.")
        statement = gr.Markdown(elem_id="collection-statement")
        consent = gr.Checkbox(False, label="I consent to sharing this library's analyses with the hub, as stated "
                                           "above", elem_id="collection-consent")
        note = gr.Markdown(elem_id="collection-consent-note")
        with gr.Row():
            url = gr.Textbox(label="Hub URL", placeholder="https://hub.example.org", elem_id="collection-url", scale=2)
            token = gr.Textbox(label="Hub token", type="password", elem_id="collection-token",
                               info="from the hub's operator; sent with the start, kept nowhere")
            recent = gr.Number(0, label="Recent albums", precision=0, minimum=0, elem_id="collection-recent",
                               info="only the N most recently added albums; 0 = the whole library")
        with gr.Row():
            start = gr.Button("Start sync", variant="primary", elem_id="collection-start")
            cancel = gr.Button("Cancel sync", variant="stop", elem_id="collection-cancel")
        status = gr.Markdown(elem_id="collection-status")
        panel = gr.HTML(elem_id="collection-progress")
        timer = gr.Timer(POLL_S)

    @reporting(4)
    def load(typed_url: str):
        given = ctx.client.get("/api/collection/consent")
        last = ctx.client.get("/api/collection/last_task")
        known = (last.get("details") or {}).get("hub") or ""
        return (statement_markdown(given), given.get("consented", False), consent_note(given),
                typed_url or (known if "***" not in known else ""))

    @reporting(1)
    def decide(ticked: bool) -> str:
        return consent_note(ctx.client.put("/api/collection/consent", {"consent": bool(ticked)}))

    @reporting(2)
    def begin(ticked: bool, hub_url: str, hub_token: str, n):
        if not ticked:
            return problem("Tick the consent box first: nothing is shared without your consent."), gr.skip()
        if not (hub_url or "").strip() or not hub_token:
            return problem("Enter the hub's URL and the token its operator gave you."), gr.skip()
        given = ctx.client.get("/api/collection/consent")
        if not given.get("consented"):  # withdrawn elsewhere, or the statement changed: the tick now counts
            given = ctx.client.put("/api/collection/consent", {"consent": True})
        reply = ctx.client.post("/api/collection/start", {"url": hub_url.strip(), "token": hub_token,
                                                          "num_albums": int(n or 0)})
        return ok(f"Sync started (task {str(reply.get('task_id'))[:8]}); progress shows below."), consent_note(given)

    def render() -> str:
        try:
            return sync_html(ctx.client.get("/api/collection/last_task"))
        except ApiError as exc:  # the poll shows the sentence and tries again
            return f"<p class='amr-error'><b>Problem:</b> {html.escape(str(exc))}</p>"

    tab.select(load, url, [statement, consent, note, url], show_progress="hidden", api_visibility="private")
    tab.select(render, None, panel, show_progress="hidden", api_visibility="private")
    consent.input(decide, consent, note, show_progress="hidden", api_visibility="private")
    start.click(begin, [consent, url, token, recent], [status, note], api_name="start_sync")
    cancel.click(reporting(1)(lambda: cancel_active(ctx.client, SYNC)), None, status, api_name="cancel_sync")
    timer.tick(render, None, panel, show_progress="hidden", queue=False, api_visibility="private")

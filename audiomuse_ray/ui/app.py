"""The Gradio front end: every tool in a tab, one banner for the server's state, one poll for live jobs.

``build_blocks(options)`` makes the ``gr.Blocks``; ``mount(app, options)`` puts it on a FastAPI app (the
Serve UI deployment does that inside its replica; ``gradio_ui.py`` does it for a stand-alone UI). The UI
holds no library state: every action is a call of the HTTP API through ``ApiClient``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import gradio as gr

from audiomuse_ray.ui.analysis import analysis_tab, render_analysis
from audiomuse_ray.ui.chat import chat_tab
from audiomuse_ray.ui.client import ApiClient, ApiError
from audiomuse_ray.ui.clustering import clustering_tab, render_clustering
from audiomuse_ray.ui.collection import collection_tab
from audiomuse_ray.ui.common import UiContext
from audiomuse_ray.ui.fingerprint import fingerprint_tab
from audiomuse_ray.ui.library import CSS as LIBRARY_CSS
from audiomuse_ray.ui.library import library_tab
from audiomuse_ray.ui.music_map import map_tab
from audiomuse_ray.ui.playlists import playlists_tab
from audiomuse_ray.ui.radios import radios_tab
from audiomuse_ray.ui.schedules import schedules_tab
from audiomuse_ray.ui.similarity import alchemy_tab, path_tab, similar_tab
from audiomuse_ray.ui.task_monitor import POLL_S, TaskPoll, render_tasks, tasks_tab

CSS = """
.amr-banner p { margin: 0; }
.amr-task progress { width: 40%; vertical-align: middle; }
.amr-recent { width: 100%; font-size: 0.9em; }
.amr-recent td, .amr-recent th { padding: 2px 8px; text-align: left; vertical-align: top; }
.amr-recent progress { width: 7em; vertical-align: middle; }
.song-table td:first-child { cursor: pointer; color: var(--color-accent); }
footer { display: none !important; }
""" + LIBRARY_CSS


@dataclass(frozen=True)
class UiOptions:
    api_url: str  # where the UI process reaches the API (loopback inside Serve)
    token: str = ""  # AUDIOMUSE_API_TOKEN: the UI then asks for it at login and sends it as Bearer
    poll_s: float = POLL_S


def banner_text(client: ApiClient) -> str:
    """One line on the server's state: down, no index yet, or writes refused (and why)."""
    try:
        health = client.health()
    except ApiError as exc:
        return f"**The server cannot be reached.** {exc}"
    notes = []
    if health.get("index_version") is None:
        notes.append("No similarity index yet: run the analysis (Analysis tab) before using the song tools.")
    if health.get("writes") == "refused":
        notes.append("This server listens on a public address without an API token, so it refuses changes "
                     "(analysis, clustering, playlists). Set AUDIOMUSE_API_TOKEN on the server to allow them "
                     "after a login.")
    return "**Note:** " + " ".join(notes) if notes else ""


def build_blocks(options: UiOptions) -> gr.Blocks:
    ctx = UiContext(ApiClient(options.api_url, options.token))
    with gr.Blocks(title="audiomuse-ray", fill_width=True) as blocks:
        gr.Markdown("# audiomuse-ray\nMusic analysis, similar songs and playlists for your own library.")
        banner = gr.Markdown(elem_id="banner", elem_classes=["amr-banner"])
        with gr.Tabs():
            with gr.Tab("Analysis", id="analysis"):
                analysis_panel, analysis_errors = analysis_tab(ctx)
            with gr.Tab("Library", id="library") as library:
                library_load, library_outputs = library_tab(ctx)
            with gr.Tab("Clustering", id="clustering"):
                cl_panel, cl_plot, cl_found, cl_history, (cl_load, cl_load_outputs) = clustering_tab(ctx)
            with gr.Tab("Similar songs", id="similar"):
                similar_tab(ctx)
            with gr.Tab("Song path", id="path"):
                path_tab(ctx)
            with gr.Tab("Song alchemy", id="alchemy"):
                alchemy_tab(ctx)
            with gr.Tab("Radios", id="radios") as radios:
                radios_load, radios_outputs = radios_tab(ctx)
            with gr.Tab("Sonic fingerprint", id="fingerprint"):
                fp_defaults, fp_user = fingerprint_tab(ctx)
            with gr.Tab("Music map", id="map"):
                map_tab(ctx)
            with gr.Tab("Instant playlist", id="chat"):
                chat_defaults, chat_outputs = chat_tab(ctx)
            with gr.Tab("Playlists", id="playlists"):
                playlists_tab(ctx)
            with gr.Tab("Schedules", id="schedules") as schedules:
                schedules_load, schedules_outputs = schedules_tab(ctx)
            collection_tab(ctx)
            with gr.Tab("Tasks", id="tasks"):
                tasks_active, tasks_recent, tasks_log = tasks_tab(ctx)
        for tab, load, outputs in ((library, library_load, library_outputs), (radios, radios_load, radios_outputs),
                                   (schedules, schedules_load, schedules_outputs)):
            tab.select(load, None, outputs, show_progress="hidden", api_visibility="private")

        def tick(history):
            poll = TaskPoll.fetch(ctx.client)
            a_panel, a_errors = render_analysis(poll)
            c_panel, history, c_frame, c_found = render_clustering(ctx, poll, history)
            t_active, t_recent, t_log = render_tasks(poll)
            return a_panel, a_errors, c_panel, history, c_frame, c_found, t_active, t_recent, t_log

        poll_outputs = [analysis_panel, analysis_errors, cl_panel, cl_history, cl_plot, cl_found,
                        tasks_active, tasks_recent, tasks_log]
        timer = gr.Timer(options.poll_s)
        timer.tick(tick, cl_history, poll_outputs, show_progress="hidden", queue=False, api_visibility="private")
        blocks.load(tick, cl_history, poll_outputs, show_progress="hidden", queue=False, api_visibility="private")
        blocks.load(lambda: banner_text(ctx.client), None, banner, show_progress="hidden", api_name="server_state")
        blocks.load(cl_load, None, cl_load_outputs, show_progress="hidden", api_visibility="private")
        blocks.load(fp_defaults, None, fp_user, show_progress="hidden", api_visibility="private")
        blocks.load(chat_defaults, None, chat_outputs, show_progress="hidden", api_visibility="private")
    return blocks


def check_login(token: str):
    """Gradio's login check: any user name, the server's API token as the password."""

    def check(_username: str, password: str) -> bool:
        return bool(token) and hmac.compare_digest((password or "").encode(), token.encode())

    return check


def mount(app, options: UiOptions, path: str = ""):
    """Mount the UI on ``app`` (a FastAPI) at ``path``; with a token, behind Gradio's login page."""
    auth = check_login(options.token) if options.token else None
    return gr.mount_gradio_app(app, build_blocks(options), path=path, auth=auth, css=CSS, footer_links=[],
                               auth_message=("audiomuse-ray: log in with any user name and the server's API "
                                             "token (AUDIOMUSE_API_TOKEN) as the password.") if auth else None,
                               show_error=True, ssr_mode=False)


__all__ = ["UiOptions", "banner_text", "build_blocks", "check_login", "mount"]

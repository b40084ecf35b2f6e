"""Clustering: the evolutionary search's parameters, start/cancel/progress, the best score against runs,
and the playlists it made."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from audiomuse_ray.clustering import algorithms
from audiomuse_ray.ui import plots
from audiomuse_ray.ui.client import ApiClient, ApiError
from audiomuse_ray.ui.common import UiContext, ok, reporting
from audiomuse_ray.ui.task_monitor import CLUSTERING, TaskPoll, cancel_active, progress_html

WEIGHTS = [("diversity", 2.0, "how different the playlists' moods are from each other"),
           ("purity", 1.0, "how much each playlist keeps to its mood"),
           ("other_feature_diversity", 0.0, "diversity of danceable/aggressive/happy/party/relaxed/sad"),
           ("other_feature_purity", 0.0, "purity of those features"),
           ("silhouette", 0.0, "how well separated the clusters are"),
           ("davies_bouldin", 0.0, "cluster compactness against separation"),
           ("calinski_harabasz", 0.0, "between- against within-cluster spread")]


def algorithm_choices(client: ApiClient) -> list[tuple[str, str]]:
    """(label, name) for the algorithm list, as the server offers them (an algorithm the server registers
    shows up here without a change to the UI)."""
    return [(a.get("label") or a["name"], a["name"]) for a in client.clustering_algorithms()]


def clustering_tab(ctx: UiContext) -> tuple:
    """The tab's parts that the page polls, and (what to run on page load, its outputs): the naming note and
    the server's list of algorithms (until it answers, the ones this package registers)."""
    gr.Markdown("Search many clusterings of the library and keep the set of playlists whose moods are pure and "
                "different from each other; the playlists are written to the media server (`…_automatic`).")
    with gr.Row():
        algorithm = gr.Dropdown([(a.label, a.name) for a in algorithms.algorithms()], value=algorithms.DEFAULT_ALGORITHM,
                                label="Algorithm", info="how songs are grouped each run", elem_id="clustering-algorithm")
        runs = gr.Number(200, label="Runs", precision=0, minimum=1, info="clusterings to try (more: better, slower)",
                         elem_id="clustering-runs")
        lo = gr.Number(40, label="Clusters from", precision=0, minimum=2, info="fitted to small libraries (8 songs a cluster)")
        hi = gr.Number(100, label="Clusters to", precision=0, minimum=2, info="upper end of the range tried")
    with gr.Row():
        embeddings = gr.Checkbox(False, label="Cluster on embeddings", info="the 200-d sound vectors instead of tag scores")
        pca_hi = gr.Number(8, label="PCA up to", precision=0, minimum=0, info="components tried (0 = no PCA)")
        max_songs = gr.Number(0, label="Max songs per playlist", precision=0, minimum=0, info="longer ones are split; 0 = no cap")
        top_n = gr.Number(8, label="Playlists kept", precision=0, minimum=1, info="the N most diverse playlists")
    with gr.Accordion("Score weights", open=False):
        weights = [gr.Number(default, label=name.replace("_", " "), info=info) for name, default, info in WEIGHTS]
    naming = gr.Markdown()
    with gr.Row():
        start = gr.Button("Start clustering", variant="primary", elem_id="clustering-start")
        cancel = gr.Button("Cancel clustering", variant="stop", elem_id="clustering-cancel")
    status = gr.Markdown(elem_id="clustering-status")
    panel = gr.HTML(elem_id="clustering-progress")
    history = gr.State({})
    plot = gr.Plot(plots.score_figure([], []), label="Best score against runs", elem_id="clustering-plot")
    found = gr.Dataframe(pd.DataFrame(columns=["playlist", "songs", "first songs"]), label="Playlists found",
                         interactive=False, wrap=True, elem_id="clustering-playlists")

    @reporting(1)
    def begin(alg, n_runs, c_lo, c_hi, emb, pca, cap, keep, *w) -> str:
        body = {"clustering_method": alg, "clustering_runs": int(n_runs), "num_clusters_min": int(c_lo),
                "num_clusters_max": int(c_hi), "enable_clustering_embeddings": bool(emb), "pca_components_min": 0,
                "pca_components_max": int(pca), "max_songs_per_cluster": int(cap), "top_n_playlists": int(keep)}
        body.update({f"score_weight_{name}": float(v) for (name, _d, _i), v in zip(WEIGHTS, w)})
        reply = ctx.client.start_clustering(body)
        return ok(f"Clustering started (task {str(reply.get('task_id'))[:8]}).")

    start.click(begin, [algorithm, runs, lo, hi, embeddings, pca_hi, max_songs, top_n, *weights], status,
                api_name="start_clustering")
    cancel.click(reporting(1)(lambda: cancel_active(ctx.client, CLUSTERING)), None, status, api_name="cancel_clustering")

    def naming_note() -> str:
        try:
            provider = ctx.client.config().get("ai_provider") or "NONE"
        except Exception:  # noqa: BLE001  (a note only; the banner reports a server that is down)
            return ""
        return ("Playlist names: by rule (tag, tempo, mood)." if provider.upper() in ("", "NONE")
                else f"Playlist names: by the language model ({provider}, set on the server).")

    def on_load() -> tuple:
        try:
            listed = gr.update(choices=algorithm_choices(ctx.client))
        except ApiError:  # the banner says why the server does not answer; the list stays as built
            listed = gr.skip()
        return naming_note(), listed

    return panel, plot, found, history, (on_load, [naming, algorithm])


def score_points(details: dict, polled: list) -> list:
    """[runs, best score] points to draw: the job's own record of each improvement up to the runs done now,
    so a search that ends between two polls still shows its curve; a server without that record (an older
    audiomuse-ray) gives only what this page's polls saw."""
    now = [int(details["runs_done"]), float(details["best_score"])]
    history = details.get("score_history")
    if history is None:
        return polled if polled and polled[-1] == now else polled + [now]
    points = [[int(runs), float(score)] for runs, score in history]
    if not points or points[-1][0] < now[0]:
        points.append(now)
    return points


def render_clustering(ctx: UiContext, poll: TaskPoll, seen: dict) -> tuple:
    """Progress, and what changed since this page's last poll: the (runs, best score) points of the current
    task and, once it has finished, its playlists (fetched once). ``seen`` is the page's own state."""
    task = poll.of_type(CLUSTERING)
    d = (task or {}).get("details") or {}
    if not task or (seen or {}).get("task") != task.get("task_id"):
        seen = {"task": task.get("task_id") if task else None, "points": [], "listed": False}
    plot: object = gr.skip()
    if d.get("runs_done") is not None and d.get("best_score") is not None:
        points = score_points(d, seen["points"])
        if points != seen["points"]:
            seen = {**seen, "points": points}
            plot = plots.score_figure([p[0] for p in points], [p[1] for p in points])
    found: object = gr.skip()
    if task.get("status") == "SUCCESS" and not seen["listed"]:
        try:
            lists = ctx.client.playlists()
        except Exception:  # noqa: BLE001  (the table is optional; the banner reports a dead server)
            lists = None
        if lists is not None:
            rows = [{"playlist": name, "songs": len(songs),
                     "first songs": "; ".join(f"{s.get('title')} — {s.get('author')}" for s in songs[:3])}
                    for name, songs in lists.items() if name.endswith("_automatic")]
            found, seen = pd.DataFrame(rows, columns=["playlist", "songs", "first songs"]), {**seen, "listed": True}
    return progress_html(task, "clustering"), seen, plot, found

"""Plotly figures for the map, the song path and alchemy. Scatters are WebGL (``Scattergl``) and a big map
is sampled before drawing, so 100k tracks stay responsive in the browser."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import plotly.graph_objects as go

from audiomuse_ray.ui.client import ApiClient

MAX_POINTS = 20_000  # drawn with hover text; the rest of a bigger map is left out of the picture (not of selections)
FETCH_MAX = 50_000  # songs of a map the UI holds (selections, path backgrounds): an even sample above that, so
# a million-track library costs the UI process 50k small dicts per map, not a million
BACKGROUND_POINTS = 5_000  # grey context behind a path
_LAYOUT = dict(margin=dict(l=10, r=10, t=30, b=10), height=520, template="plotly_white",
               legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), dragmode="pan")


class MapCache:
    """The music map (100 %, thinned to ``FETCH_MAX`` songs by the server) of the current index version,
    fetched once per version per UI process: item id -> (x, y) for drawing paths, and an evenly spread
    sample as background."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: Any = object()
        self._items: list[dict] = []
        self._coords: dict[str, tuple[float, float]] = {}

    def _load(self, client: ApiClient) -> None:
        version = client.health().get("index_version")
        with self._lock:
            if version == self._version:
                return
            items = client.music_map(100, FETCH_MAX).get("items") or []
            self._items = items
            self._coords = {i["item_id"]: tuple(i["embedding_2d"]) for i in items if i.get("embedding_2d")}
            self._version = version

    def coords(self, client: ApiClient) -> dict[str, tuple[float, float]]:
        self._load(client)
        return self._coords

    def background(self, client: ApiClient) -> list[dict]:
        self._load(client)
        return sample(self._items, BACKGROUND_POINTS)


def sample(items: list[dict], limit: int) -> list[dict]:
    """At most ``limit`` items, evenly spread over the list (deterministic)."""
    if len(items) <= limit:
        return items
    keep = np.unique(np.linspace(0, len(items) - 1, limit).astype(int))
    return [items[i] for i in keep]


def _hover(items: list[dict]) -> list[str]:
    return [f"{i.get('title') or '?'}<br>{i.get('artist') or i.get('author') or '?'}" for i in items]


def map_figure(items: list[dict], colour_by: str = "top tag", region: tuple[float, float, float, float] | None = None) -> go.Figure:
    """The 2-D map, one WebGL trace per top tag (so the legend names the colours), sampled to MAX_POINTS;
    ``region`` (x0, x1, y0, y1) is outlined."""
    shown = sample(items, MAX_POINTS)
    fig = go.Figure()
    if colour_by == "top tag":
        groups: dict[str, list[dict]] = {}
        for i in shown:
            groups.setdefault(str(i.get("mood_vector") or "unknown").split(":")[0], []).append(i)
        ordered = sorted(groups.items(), key=lambda kv: -len(kv[1]))
        for n, (tag, members) in enumerate(ordered):
            name = tag if n < 12 else "other"
            fig.add_trace(go.Scattergl(x=[m["embedding_2d"][0] for m in members], y=[m["embedding_2d"][1] for m in members],
                                       mode="markers", name=name, legendgroup=name, showlegend=n <= 12,
                                       marker=dict(size=6, opacity=0.8, color="#999" if n >= 12 else None),
                                       text=_hover(members), hoverinfo="text"))
    else:
        fig.add_trace(go.Scattergl(x=[m["embedding_2d"][0] for m in shown], y=[m["embedding_2d"][1] for m in shown],
                                   mode="markers", name="songs", marker=dict(size=5, opacity=0.7),
                                   text=_hover(shown), hoverinfo="text"))
    if region:
        x0, x1, y0, y1 = region
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line=dict(color="#d62728", width=2), fillcolor="rgba(214,39,40,0.08)")
    title = f"{len(shown):,} of {len(items):,} songs" + (" (evenly sampled for drawing)" if len(shown) < len(items) else "")
    fig.update_layout(title=title, **_LAYOUT)
    return fig


def in_region(items: list[dict], region: tuple[float, float, float, float]) -> list[dict]:
    x0, x1, y0, y1 = region
    lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    return [i for i in items if lo_x <= i["embedding_2d"][0] <= hi_x and lo_y <= i["embedding_2d"][1] <= hi_y]


def path_figure(background: list[dict], path: list[dict], coords: dict[str, tuple[float, float]]) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=[b["embedding_2d"][0] for b in background], y=[b["embedding_2d"][1] for b in background],
                               mode="markers", name="library", marker=dict(size=4, color="#ccc"),
                               text=_hover(background), hoverinfo="text"))
    on_map = [p for p in path if p.get("item_id") in coords]
    xs, ys = [coords[p["item_id"]][0] for p in on_map], [coords[p["item_id"]][1] for p in on_map]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name="path", line=dict(color="#1f77b4", width=2),
                             marker=dict(size=9), text=_hover(on_map), hoverinfo="text"))
    if on_map:
        fig.add_trace(go.Scatter(x=[xs[0], xs[-1]], y=[ys[0], ys[-1]], mode="markers+text", name="ends",
                                 text=["start", "end"], textposition="top center",
                                 marker=dict(size=14, color=["#2ca02c", "#d62728"], symbol="star")))
    fig.update_layout(title=f"{len(on_map)} of {len(path)} path songs on the map", **_LAYOUT)
    return fig


def alchemy_figure(reply: dict) -> go.Figure:
    fig = go.Figure()

    def layer(points: list[dict], name: str, **marker: Any) -> None:
        if points:
            fig.add_trace(go.Scattergl(x=[p["embedding_2d"][0] for p in points], y=[p["embedding_2d"][1] for p in points],
                                       mode="markers", name=name, marker=marker, text=_hover(points), hoverinfo="text"))

    layer(reply.get("results") or [], "results", size=8, color="#1f77b4")
    layer(reply.get("filtered_out") or [], "filtered out", size=7, color="#bbb", symbol="x")
    layer(reply.get("add_points") or [], "added songs", size=12, color="#2ca02c", symbol="diamond")
    layer(reply.get("sub_points") or [], "subtracted songs", size=12, color="#d62728", symbol="diamond")
    for key, name, colour in (("add_centroid_2d", "add centroid", "#2ca02c"), ("subtract_centroid_2d", "subtract centroid", "#d62728")):
        c = reply.get(key)
        if c:
            fig.add_trace(go.Scatter(x=[c[0]], y=[c[1]], mode="markers", name=name,
                                     marker=dict(size=20, color=colour, symbol="star-open", line=dict(width=2))))
    fig.update_layout(title=f"projection: {reply.get('projection', '?')}", **_LAYOUT)
    return fig


def score_figure(runs: list[int], scores: list[float]) -> go.Figure:
    """The best score the search had found after each number of runs (markers, so one point shows)."""
    fig = go.Figure(go.Scatter(x=runs, y=scores, mode="lines+markers", name="best score", line=dict(shape="hv")))
    fig.update_layout(title="Best score against runs", xaxis_title="runs", yaxis_title="best score",
                      **{**_LAYOUT, "height": 300})
    return fig

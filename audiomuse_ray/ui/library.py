"""Library: the dashboard (``GET /api/dashboard/summary``) as numbers and plots: how much is analysed, the
moods, tempo and key spread of the library, and how many tracks were analysed each day."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import gradio as gr
import plotly.graph_objects as go

from audiomuse_ray.ui.common import UiContext, ok, reporting
from audiomuse_ray.ui.radios import when

KEYS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=300, template="plotly_white", bargap=0.15,
               legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
CSS = """
.amr-stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.amr-stat { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; }
.amr-stat b { display: block; font-size: 1.5em; }
.amr-stat span { color: var(--body-text-color-subdued); font-size: 0.9em; }
"""


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def stats_html(summary: dict) -> str:
    """The numbers as cards: analysed, failed, pending, artists, albums, average tempo, the index."""
    c, a, index = summary.get("content") or {}, summary.get("analysis") or {}, summary.get("index")
    tempo = (c.get("tempo_profile") or {}).get("avg_tempo")
    cards = [("tracks analysed", f"{a.get('analysed', 0):,}"), ("could not be analysed", f"{a.get('failed', 0):,}"),
             ("waiting to be analysed", f"{a.get('pending', 0):,}"),
             ("artists", f"{c.get('distinct_artists', 0):,}"), ("albums", f"{c.get('distinct_albums', 0):,}"),
             ("average tempo", f"{tempo:.0f} BPM" if tempo else "–"),
             ("similarity index", f"version {index['version']}" if index else "not built yet"),
             ("index built", _age(index.get("age_seconds")) if index else "run the analysis")]
    body = "".join(f"<div class='amr-stat'><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>" for k, v in cards)
    return f"<div class='amr-stats' id='library-stats'>{body}</div>"


def moods_figure(summary: dict) -> go.Figure:
    """Each mood's share of the tracks whose strongest mood it is, and its mean score (hover)."""
    moods = (summary.get("content") or {}).get("moods_coverage") or []
    total = sum(m.get("count") or 0 for m in moods) or 1
    ordered = sorted(moods, key=lambda m: m.get("count") or 0)
    fig = go.Figure(go.Bar(x=[100 * (m.get("count") or 0) / total for m in ordered], y=[m["label"] for m in ordered],
                           orientation="h", marker_color="#7c5cbf",
                           text=[f"{m['count']:,} tracks" if m.get("count") else "" for m in ordered],
                           textposition="auto",
                           hovertext=[f"mean score {m['score']:.1f} %" if m.get("score") is not None else "no score"
                                      for m in ordered], hoverinfo="text+x"))
    fig.update_layout(**_LAYOUT, title="Moods: the strongest mood of each track")
    fig.update_xaxes(title="% of tracks", ticksuffix=" %")
    return fig


def tempo_figure(summary: dict, width: int = 10) -> go.Figure:
    rows = (summary.get("histograms") or {}).get("tempo") or []
    fig = go.Figure(go.Bar(x=[r["bpm"] + width / 2 for r in rows], y=[r["count"] for r in rows], width=width * 0.9,
                           marker_color="#2f8fbf", hovertext=[f"{r['bpm']}–{r['bpm'] + width} BPM: {r['count']:,}"
                                                              for r in rows], hoverinfo="text"))
    fig.update_layout(**_LAYOUT, title="Tempo")
    fig.update_xaxes(title="BPM")
    fig.update_yaxes(title="tracks")
    return fig


def key_figure(summary: dict) -> go.Figure:
    """Tracks per key, major and minor side by side, in chromatic order."""
    counts: dict[tuple[str, str], int] = {}
    for r in (summary.get("histograms") or {}).get("key") or []:
        key = _FLATS.get(r["key"], r["key"])
        counts[(key, r.get("scale") or "")] = counts.get((key, r.get("scale") or ""), 0) + r["count"]
    keys = KEYS + sorted({k for k, _s in counts} - set(KEYS))
    fig = go.Figure([go.Bar(name=scale, x=keys, y=[counts.get((k, scale), 0) for k in keys], marker_color=colour)
                     for scale, colour in (("major", "#e0a030"), ("minor", "#3a7d44"))])
    fig.update_layout(**_LAYOUT, title="Key", barmode="group")
    fig.update_yaxes(title="tracks")
    return fig


def per_day_figure(summary: dict, days: int = 30) -> go.Figure:
    """Tracks analysed per day over the last ``days`` days, days without any shown as 0."""
    found = {r["date"]: r["count"] for r in (summary.get("histograms") or {}).get("analysed_per_day") or []}
    today = date.fromisoformat((summary.get("generated_at") or date.today().isoformat())[:10])
    span = [(today - timedelta(days=d)).isoformat() for d in range(days - 1, -1, -1)]
    fig = go.Figure(go.Bar(x=span, y=[found.get(d, 0) for d in span], marker_color="#bf4f5c"))
    fig.update_layout(**_LAYOUT, title=f"Tracks analysed per day (last {days} days)")
    fig.update_yaxes(title="tracks")
    return fig


def library_tab(ctx: UiContext) -> tuple[Any, list]:
    """Builds the tab; returns (loader, its outputs) for the tab's select event."""
    status = gr.Markdown(elem_id="library-status")
    stats = gr.HTML(elem_id="library-numbers")
    with gr.Row():
        moods = gr.Plot(label="Moods", elem_id="library-moods")
        tempo = gr.Plot(label="Tempo", elem_id="library-tempo")
    with gr.Row():
        keys = gr.Plot(label="Key", elem_id="library-keys")
        per_day = gr.Plot(label="Analysed per day", elem_id="library-per-day")
    refresh = gr.Button("Refresh", elem_id="library-refresh")
    outputs = [status, stats, moods, tempo, keys, per_day]

    @reporting(6)
    def load():
        summary = ctx.client.dashboard()
        note = (f"Library numbers as of {when(summary.get('stats_updated_at'))} UTC (the server refreshes them "
                "every few minutes and after each analysis).")
        return (ok(note), stats_html(summary), moods_figure(summary), tempo_figure(summary), key_figure(summary),
                per_day_figure(summary))

    refresh.click(load, None, outputs, api_name="library")
    return load, outputs

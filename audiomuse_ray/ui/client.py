"""A small client of audiomuse-ray's own HTTP API: the only way the UI reaches the service.

Every call returns the route's JSON (or bytes) or raises ``ApiError`` whose message is a sentence a person
can act on ("The server at … does not answer", the server's own ``{"error": …}`` text). No SQL, no Ray.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from audiomuse_ray.clustering import algorithms


class ApiError(Exception):
    """A call failed; ``str(exc)`` is a plain sentence for the page, ``status`` the HTTP status (0: no reply)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


@dataclass
class ApiClient:
    base_url: str
    token: str = ""
    timeout_s: float = 60.0
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    # ------------------------------------------------------------------------------ transport
    def _request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                 timeout_s: float | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            res = self.session.request(method, self.base_url + path, params=params, json=json, headers=headers,
                                       timeout=timeout_s or self.timeout_s)
        except requests.Timeout:
            raise ApiError(f"The audiomuse-ray server at {self.base_url} took too long to answer {path}.") from None
        except requests.RequestException:
            raise ApiError(f"The audiomuse-ray server at {self.base_url} does not answer: is it running?") from None
        if res.status_code >= 400:
            raise ApiError(_error_sentence(res, path), res.status_code)
        return res

    def get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    def post(self, path: str, body: dict | None = None, timeout_s: float | None = None) -> Any:
        return self._request("POST", path, json=body or {}, timeout_s=timeout_s).json()

    def put(self, path: str, body: dict) -> Any:
        return self._request("PUT", path, json=body).json()

    def delete(self, path: str) -> Any:
        return self._request("DELETE", path).json()

    # ------------------------------------------------------------------------------ service
    def health(self) -> dict:
        return self.get("/api/health")

    def config(self) -> dict:
        return self.get("/api/config")

    def provider_info(self) -> dict:
        """What the media provider supports (``GET /api/provider``: name, capabilities, the labels of the
        history user and secret fields). An older server without the route answers 404: then only the name
        is known (from ``/api/config``), capabilities are empty and the secret's kind is unknown ("")."""
        try:
            return self.get("/api/provider")
        except ApiError as exc:
            if exc.status != 404:
                raise
        cfg = self.config()
        name = str(cfg.get("provider") or "")
        default = cfg.get("jellyfin_user_id") or cfg.get("emby_user_id") or cfg.get("subsonic_user") or ""
        return {"name": name, "title": name, "capabilities": {},
                "history_user": {"user_label": "User", "secret_label": "Token or password", "secret": "",
                                 "default_user": str(default)}}

    # ------------------------------------------------------------------------------ similarity
    def search(self, query: str, limit: int = 20) -> list[dict]:
        return self.get("/api/search_tracks", search_query=query, start=0, end=limit)

    def similar(self, item_id: str, n: int = 10, eliminate_duplicates: bool = True, mood_similarity: bool = False,
                radius_similarity: bool = True) -> list[dict]:
        return self.get("/api/similar_tracks", item_id=item_id, n=n,
                        eliminate_duplicates=str(eliminate_duplicates).lower(),
                        mood_similarity=str(mood_similarity).lower(), radius_similarity=str(radius_similarity).lower())

    def path(self, start_id: str, end_id: str, max_steps: int = 25) -> dict:
        return self.get("/api/find_path", start_song_id=start_id, end_song_id=end_id, max_steps=max_steps)

    def alchemy(self, add: list[str], subtract: list[str], n: int = 100, temperature: float = 1.0,
                subtract_distance: float | None = None) -> dict:
        items = [{"id": i, "op": "ADD", "type": "song"} for i in add]
        items += [{"id": i, "op": "SUBTRACT", "type": "song"} for i in subtract]
        body: dict[str, Any] = {"items": items, "n": n, "temperature": temperature}
        if subtract_distance is not None:
            body["subtract_distance"] = subtract_distance
        return self.post("/api/alchemy", body)

    def fingerprint(self, n: int = 100, user: str = "", token: str = "", password: str = "") -> list[dict]:
        return self.get("/api/sonic_fingerprint/generate", n=n, jellyfin_user_identifier=user or None,
                        jellyfin_token=token or None, navidrome_user=user or None, navidrome_password=password or None)

    def music_map(self, percent: int = 25, max_points: int | None = None) -> dict:
        """The map's bucket; ``max_points`` thins it on the server (an older server sends it whole)."""
        return self.get("/api/map", percent=percent, max_points=max_points)

    def preview(self, item_id: str, seconds: int = 30) -> tuple[bytes, str]:
        """A short excerpt of the track's audio as the media provider serves it: (bytes, content type)."""
        res = self._request("GET", f"/api/preview/{requests.utils.quote(item_id, safe='')}",
                            params={"seconds": seconds})
        return res.content, res.headers.get("content-type", "application/octet-stream")

    # ------------------------------------------------------------------------------ playlists, tasks
    def create_playlist(self, name: str, item_ids: list[str]) -> dict:
        return self.post("/api/create_playlist", {"playlist_name": name, "track_ids": item_ids})

    def playlists(self) -> dict[str, list[dict]]:
        return self.get("/api/playlists")

    def active_task(self) -> dict:
        return self.get("/api/active_tasks")

    def last_task(self) -> dict:
        return self.get("/api/last_task")

    def recent_tasks(self, limit: int = 10) -> list[dict]:
        return self.get("/api/tasks", limit=limit)

    def task(self, task_id: str) -> dict:
        return self.get(f"/api/status/{task_id}")

    def cancel(self, task_id: str) -> dict:
        return self.post(f"/api/cancel/{task_id}")

    def start_analysis(self, recent_albums: int = 0, workers: int = 0) -> dict:
        body = {"num_recent_albums": recent_albums}
        if workers:
            body["workers"] = workers
        return self.post("/api/analysis/start", body)

    def start_clustering(self, options: dict) -> dict:
        return self.post("/api/clustering/start", options)

    def clustering_algorithms(self) -> list[dict]:
        """The clustering algorithms the server offers, in its order (``GET /api/clustering/algorithms``:
        name, label, parameters). A server older than that route (404) offers the built-in ones: their names
        and labels from this package's registry."""
        try:
            listing = self.get("/api/clustering/algorithms")
        except ApiError as exc:
            if exc.status != 404:
                raise
            return [{"name": a.name, "label": a.label} for a in algorithms.algorithms()]
        return listing["algorithms"] if isinstance(listing, dict) else listing

    # ------------------------------------------------------------------------------ anchors, radios, schedules
    def anchors(self) -> list[dict]:
        return self.get("/api/anchors")["anchors"]

    def save_anchor(self, name: str, add: list[str], subtract: list[str] = ()) -> dict:
        items = [{"id": i, "op": "ADD", "type": "song"} for i in add]
        items += [{"id": i, "op": "SUBTRACT", "type": "song"} for i in subtract]
        return self.post("/api/anchors", {"name": name, "items": items})["anchor"]

    def delete_anchor(self, anchor_id: int) -> dict:
        return self.delete(f"/api/anchors/{int(anchor_id)}")

    def radios(self) -> list[dict]:
        return self.get("/api/radios")["radios"]

    def save_radio(self, anchor_id: int, n_results: int, temperature: float, enabled: bool = True,
                   max_repeat_share: float = 1.0, skip_played_days: int = 0) -> dict:
        body = {"anchor_id": int(anchor_id), "n_results": int(n_results), "temperature": float(temperature),
                "enabled": bool(enabled), "max_repeat_share": float(max_repeat_share),
                "skip_played_days": int(skip_played_days)}
        return self.post("/api/radios", body)["radio"]

    def update_radio(self, radio_id: int, **fields: Any) -> dict:
        return self.put(f"/api/radios/{int(radio_id)}", fields)["radio"]

    def delete_radio(self, radio_id: int) -> dict:
        return self.delete(f"/api/radios/{int(radio_id)}")

    def run_radios(self, radio_ids: list[int] | None = None) -> dict:
        return self.post("/api/radios/run", {"radio_ids": radio_ids} if radio_ids else {}, timeout_s=600)

    def preview_radio(self, radio_id: int) -> dict:
        return self.get(f"/api/radios/{int(radio_id)}/preview")

    def schedules(self) -> list[dict]:
        return self.get("/api/cron")

    def save_schedule(self, row: dict) -> dict:
        return self.post("/api/cron", row)

    def delete_schedule(self, schedule_id: int) -> dict:
        return self.delete(f"/api/cron/{int(schedule_id)}")

    def schedule_runs(self, limit: int = 20) -> list[dict]:
        return self.get("/api/cron/runs", limit=limit)

    def dashboard(self) -> dict:
        return self.get("/api/dashboard/summary")

    # ------------------------------------------------------------------------------ instant playlist (chat)
    def chat_defaults(self) -> dict:
        return self.get("/chat/api/config_defaults")

    def chat_playlist(self, user_input: str, provider: str = "", model: str = "", ollama_url: str = "",
                      openai_url: str = "") -> dict:
        body = {"userInput": user_input, "ai_provider": provider, "ai_model": model,
                "ollama_server_url": ollama_url, "openai_server_url": openai_url}
        return self.post("/chat/api/chatPlaylist", {k: v for k, v in body.items() if v}, timeout_s=300)

    def chat_create_playlist(self, name: str, item_ids: list[str]) -> dict:
        return self.post("/chat/api/create_playlist", {"playlist_name": name, "item_ids": item_ids})


def _error_sentence(res: requests.Response, path: str) -> str:
    try:
        body = res.json()
    except ValueError:
        body = None
    message = ""
    if isinstance(body, dict):
        inner = body.get("response") if isinstance(body.get("response"), dict) else {}  # the chat routes' shape
        message = str(body.get("error") or body.get("message") or body.get("detail") or inner.get("message") or "")
    if res.status_code == 404 and (not message or message == "Not Found"):
        return f"This server has no {path.split('?')[0]} route (HTTP 404): it may be an older audiomuse-ray."
    if res.status_code == 401:
        return "The server wants an API token: log in again with the value of AUDIOMUSE_API_TOKEN."
    return message or f"The server answered HTTP {res.status_code} to {path}."

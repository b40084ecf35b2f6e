"""The Ray Serve application: one ingress deployment whose replicas each hold the similarity index in
memory and answer AudioMuse-AI's HTTP routes. Route methods only parse, call one function and shape.

    serve run serve_app:app                 # from the repository root (settings from AUDIOMUSE_*)
    audiomuse-ray serve [--host H --port P]

Replicas poll the store for a newer index version (``reload_interval_s``) and swap it in; POST
``/api/reload_index`` does it at once. With ``AUDIOMUSE_API_TOKEN`` set, every ``/api`` and ``/chat/api``
route needs ``Authorization: Bearer <token>``; without one, a server bound to a non-loopback address
refuses write routes.
"""


import gzip
import json
import logging
import threading
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from ray import serve

from audiomuse_ray.api import artists_api
from audiomuse_ray.api import chat_api
from audiomuse_ray.api import guard
from audiomuse_ray.api import similarity_api as sim
from audiomuse_ray.api import tasks_api
from audiomuse_ray.api import unsupported
from audiomuse_ray.api.holder import LibraryHolder
from audiomuse_ray.api.params import BadRequest
from audiomuse_ray.errors import AudioMuseError, http_status
from audiomuse_ray.providers import make_provider
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store

log = logging.getLogger(__name__)
APP_NAME = "audiomuse"

api = FastAPI(title="audiomuse-ray", docs_url="/api/docs", openapi_url="/api/openapi.json")


def status_for(exc: Exception) -> int:
    """Each error type carries its own status (``AudioMuseError.http_status``); anything else is a 500."""
    return http_status(exc)


@api.exception_handler(AudioMuseError)
async def _typed_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=status_for(exc))


@api.exception_handler(StarletteHTTPException)
async def _routing_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """No route (404, or 501 for AudioMuse-AI features this server lacks) or a wrong method (405), in the
    plugins' ``{"error": ...}`` shape instead of FastAPI's ``{"detail": ...}``."""
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    status, message = unsupported.reply(path, request.method, exc.status_code, exc.detail)
    return JSONResponse({"error": message}, status_code=status, headers=getattr(exc, "headers", None))


@api.exception_handler(Exception)
async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """A bug: the same JSON shape for the plugins, the type for the operator; the traceback goes to the log
    (Starlette re-raises after answering), the message stays out of the reply in case it holds a secret."""
    return JSONResponse({"error": f"Internal error ({type(exc).__name__}); the server log has the details."},
                        status_code=status_for(exc))


# Route prefixes that are themselves the first segment of the API's paths ("/api/similar_tracks",
# "/chat/api/chatPlaylist"): Serve gives a replica root_path = its route prefix, and Starlette would match
# "/similar_tracks" under "/api". Under these prefixes the middleware below clears root_path so the
# declared full paths match; under any other prefix ("/jf", "/slow" in tests) root_path keeps working.
FULL_PATH_PREFIXES = ("/api", "/chat")


class BearerGuard:
    """The token / write guard as plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would add a
    task and a memory stream to every request (about a fifth of a fast route's time)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root in FULL_PATH_PREFIXES:  # deployed at /api or /chat: the routes are written as full paths
            scope, root = {**scope, "root_path": ""}, ""
        if root and path.startswith(root):  # an app mounted under a route prefix sees its own paths
            path = path[len(root):]
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
        refused = guard.refusal(path, scope["method"], authorization)
        if refused:
            return await JSONResponse({"error": refused[1]}, status_code=refused[0])(scope, receive, send)
        return await self.app(scope, receive, send)


api.add_middleware(BearerGuard)


async def _json_body(request: Request, allow_empty: bool = False) -> dict:
    raw = await request.body()
    if not raw and allow_empty:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("Invalid JSON payload") from None
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON payload")
    return body


@serve.deployment(name="AudioMuseApi", ray_actor_options={"num_cpus": 0.5})
@serve.ingress(api)
class AudioMuseApi:
    def __init__(self, settings: Settings, reload_interval_s: float = 10.0):
        self.settings = settings
        guard.configure(settings.api_token, settings.host)
        self.store = open_store(settings.database_url)
        self.holder = LibraryHolder(self.store)
        try:
            self.holder.refresh()
        except AudioMuseError as exc:
            log.warning("no similarity index loaded yet: %s", exc)
        self.holder.start_polling(reload_interval_s)
        self._provider = None
        self._provider_lock = threading.Lock()

    def provider(self):
        with self._provider_lock:
            if self._provider is None:
                self._provider = make_provider(self.settings)
            return self._provider

    # ---------------------------------------------------------------------------------- health, config
    # Light, bounded routes are coroutines: they run on the replica's event loop and skip the thread pool
    # hop (about 0.3 ms); anything that may touch the database or a media server stays a plain function.
    @api.get("/")
    async def health(self) -> dict:
        return {"status": "ok", "service": "audiomuse-ray", "index_version": self.holder.version}

    @api.get("/api/health")
    async def api_health(self) -> dict:
        """For scripts and the UI (``GET /`` is the UI's page when both are served): also whether this
        server takes writes ("open"), wants a token ("token") or refuses them ("refused": public bind)."""
        return {"status": "ok", "service": "audiomuse-ray", "index_version": self.holder.version,
                "writes": guard.write_policy()}

    @api.get("/api/config")
    def config(self) -> dict:
        return {k: v for k, v in self.settings.public_dict().items() if k not in ("database_url", "data_dir")}

    @api.post("/api/reload_index")
    def reload_index(self) -> dict:
        changed = self.holder.refresh()
        return {"index_version": self.holder.version, "reloaded": changed}

    # ---------------------------------------------------------------------------------- similarity
    @api.get("/api/search_tracks")
    def search_tracks(self, request: Request) -> list:
        return sim.search(self.holder.current(), request.query_params)

    @api.get("/api/similar_tracks")
    async def similar_tracks(self, request: Request) -> JSONResponse:
        # a ready JSONResponse skips FastAPI's response-model pass over plain dicts
        return JSONResponse(sim.similar(self.holder.current(), request.query_params))

    @api.get("/api/track")
    async def track(self, request: Request) -> dict:
        return sim.track(self.holder.current(), request.query_params)

    @api.get("/api/max_distance")
    def max_distance(self, request: Request) -> dict:
        return sim.max_distance(self.holder.current(), request.query_params)

    @api.get("/api/similar_artists")
    def similar_artists(self, request: Request) -> list:
        return artists_api.similar_artists(self.holder.current(), request.query_params)

    @api.get("/api/artist_tracks")
    def artist_tracks(self, request: Request) -> list:
        return artists_api.artist_tracks(self.holder.current(), request.query_params)

    @api.get("/api/find_path")
    def find_path(self, request: Request) -> dict:
        return sim.path(self.holder.current(), request.query_params)

    @api.post("/api/alchemy")
    async def alchemy(self, request: Request) -> dict:
        return sim.alchemy(self.holder.current(), await _json_body(request))

    @api.api_route("/api/sonic_fingerprint/generate", methods=["GET", "POST"])
    async def sonic_fingerprint(self, request: Request) -> list:
        params = request.query_params if request.method == "GET" else await _json_body(request)
        # up to ~50 media-server calls: in a worker thread, never on the event loop other requests share
        return await run_in_threadpool(lambda: sim.sonic_fingerprint(self.holder.current(), params, self.provider()))

    @api.get("/api/map")
    def music_map(self, request: Request) -> Response:
        body = sim.map_bucket(self.holder.current(), request.query_params)
        headers = {"Cache-Control": "no-store"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(body, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
        return Response(gzip.decompress(body), media_type="application/json", headers=headers)

    @api.get("/api/preview/{item_id}")
    def preview(self, item_id: str, request: Request) -> Response:
        """A short excerpt of the track from the media provider, for the UI's play buttons."""
        from audiomuse_ray.api.preview import preview

        clip = preview(self.provider(), item_id, request.query_params)
        return Response(clip.body, media_type=clip.media_type, headers={"Cache-Control": "private, max-age=3600"})

    # ---------------------------------------------------------------------------------- playlists
    @api.post("/api/create_playlist")
    async def create_playlist(self, request: Request) -> JSONResponse:
        body = await _json_body(request)
        name, ids = tasks_api.playlist_request(body)
        playlist_id = await run_in_threadpool(lambda: tasks_api.create_playlist(self.store, self.provider(), name, ids))
        return JSONResponse({"message": f"Playlist '{name}' created successfully!", "playlist_id": playlist_id},
                            status_code=201)

    @api.get("/api/playlists")
    def playlists(self) -> dict:
        return tasks_api.list_playlists(self.store)

    # ---------------------------------------------------------------------------------- instant playlist (chat)
    @api.get("/chat/api/config_defaults")
    @api.get("/api/config_defaults")
    def chat_config_defaults(self) -> dict:
        return chat_api.config_defaults(self.settings)

    @api.post("/chat/api/chatPlaylist")
    @api.post("/api/chatPlaylist")
    async def chat_playlist(self, request: Request) -> JSONResponse:
        body = await _json_body(request)
        # a model call and a query: in a worker thread, never on the event loop
        status, reply = await run_in_threadpool(chat_api.chat_playlist, self.settings, self.store, body)
        return JSONResponse(reply, status_code=status)

    @api.post("/chat/api/create_playlist")
    async def chat_create_playlist(self, request: Request) -> JSONResponse:
        body = await _json_body(request)
        status, reply = await run_in_threadpool(lambda: chat_api.create_playlist(self.store, self.provider(), body))
        return JSONResponse(reply, status_code=status)

    # ---------------------------------------------------------------------------------- tasks
    @api.get("/api/status/{task_id}")
    def task_status(self, task_id: str) -> JSONResponse:
        status, body = tasks_api.status(self.store, task_id, self.settings.task_stale_s)
        return JSONResponse(body, status_code=status)

    @api.post("/api/cancel/{task_id}")
    def cancel(self, task_id: str) -> JSONResponse:
        status, body = tasks_api.cancel(self.store, task_id, self.settings.task_stale_s)
        return JSONResponse(body, status_code=status)

    @api.post("/api/cancel_all/{task_type_prefix}")
    def cancel_all(self, task_type_prefix: str) -> JSONResponse:
        status, body = tasks_api.cancel_all(self.store, task_type_prefix, self.settings.task_stale_s)
        return JSONResponse(body, status_code=status)

    @api.get("/api/last_task")
    def last_task(self) -> dict:
        return tasks_api.last_task(self.store, self.settings.task_stale_s)

    @api.get("/api/active_tasks")
    def active_tasks(self) -> dict:
        return tasks_api.active_task(self.store, self.settings.task_stale_s)

    @api.get("/api/tasks")
    def recent_tasks(self, request: Request) -> list:
        return tasks_api.recent_tasks(self.store, request.query_params, self.settings.task_stale_s)

    @api.post("/api/analysis/start")
    async def start_analysis(self, request: Request) -> JSONResponse:
        body = await _json_body(request, allow_empty=True)
        status, reply = await run_in_threadpool(tasks_api.start_analysis, self.settings, self.store, body)
        return JSONResponse(reply, status_code=status)

    @api.post("/api/clustering/start")
    async def start_clustering(self, request: Request) -> JSONResponse:
        body = await _json_body(request, allow_empty=True)
        status, reply = await run_in_threadpool(tasks_api.start_clustering, self.settings, self.store, body)
        return JSONResponse(reply, status_code=status)


def build(settings: Settings, reload_interval_s: float = 10.0, num_replicas: int = 1, num_cpus: float = 0.5):
    """The bound application for ``serve.run``."""
    return AudioMuseApi.options(num_replicas=num_replicas, ray_actor_options={"num_cpus": num_cpus},
                                logging_config={"enable_access_log": False, "log_level": "WARNING"}).bind(
        settings, reload_interval_s)


def app(args: dict[str, object]):
    """Application builder for ``serve run serve_app:app [key=value ...]`` and KubeRay's serveConfigV2 ``args``.

    Settings come from AUDIOMUSE_* and ``args``; Serve hands ``key=value`` over as strings, so every value
    goes through ``Settings.load``'s parser. Besides the settings: ``reload_interval_s`` (seconds between
    index checks) and ``num_replicas``. An unknown name is an error that lists the valid ones."""
    from audiomuse_ray.errors import ConfigurationError
    from audiomuse_ray.settings import parse_value

    args = dict(args or {})
    source = "Serve application argument"
    own = {"reload_interval_s": parse_value("reload_interval_s", args.pop("reload_interval_s", 10.0), float, source),
           "num_replicas": parse_value("num_replicas", args.pop("num_replicas", 1), int, source)}
    unknown = sorted(set(args) - set(Settings.names()))
    if unknown:
        raise ConfigurationError(
            f"Unknown Serve application argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
            f"Valid names: {', '.join([*own, *Settings.names()])}."
        )
    if not own["reload_interval_s"] > 0:
        raise ConfigurationError(f"reload_interval_s={own['reload_interval_s']!r} ({source}) must be more than 0 seconds.")
    if own["num_replicas"] < 1:
        raise ConfigurationError(f"num_replicas={own['num_replicas']!r} ({source}) must be 1 or more.")
    return build(Settings.load(**args), own["reload_interval_s"], own["num_replicas"])


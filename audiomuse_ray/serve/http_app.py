"""The API's FastAPI application: the routers of ``serve.routes``, the access guard, and one error style.

Every error a route raises is an ``AudioMuseError`` answered as ``{"error": sentence, ...route fields}``
with the status its type carries; a request FastAPI cannot read is a 400 naming the parameter (never a
422), an unknown path a 404 (501 for AudioMuse-AI features this server lacks), a wrong method a 405, all in
the plugins' ``{"error": ...}`` shape. ``/api/docs`` and ``/api/openapi.json`` document every route.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import URL
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from audiomuse_ray.api import access, unsupported
from audiomuse_ray.errors import AudioMuseError, http_status
from audiomuse_ray.serve.params import validation_message
from audiomuse_ray.serve.route_names import ServeRouteName
from audiomuse_ray.serve.routes import ROUTERS

DESCRIPTION = """Self-hosted music intelligence on Ray: similar songs, song paths, alchemy, clustering into
playlists, instant playlists from words. Routes and JSON shapes follow AudioMuse-AI's, so its Jellyfin,
Navidrome and Lyrion plugins work unchanged. With `AUDIOMUSE_API_TOKEN` set, send
`Authorization: Bearer <token>` (only `GET /api/health` is open)."""

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
        refused = access.refusal(path, scope["method"], authorization)
        if refused:
            return await JSONResponse({"error": refused[1]}, status_code=refused[0])(scope, receive, send)
        if scope["method"] in BODY_METHODS:
            scope = _json_by_default(scope)
        return await self.app(scope, receive, send)


BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON = b"application/json"


def _json_by_default(scope: dict) -> dict:
    """A body sent without a content type, or as text/plain, is read as JSON (AudioMuse-AI's clients and
    scripts often omit the header; FastAPI would then not parse it at all)."""
    headers = scope["headers"]
    given = next((v for k, v in headers if k == b"content-type"), b"")
    if given and not given.lower().startswith(b"text/plain"):
        return scope
    kept = [(k, v) for k, v in headers if k != b"content-type"]
    return {**scope, "headers": [*kept, (b"content-type", _JSON)]}


async def _typed_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AudioMuseError)
    return JSONResponse(exc.body(), status_code=exc.http_status)


async def _unreadable_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"error": validation_message(list(exc.errors()))}, status_code=400)


async def _routing_error(request: Request, exc: Exception) -> JSONResponse:
    """No route (404, or 501 for AudioMuse-AI features this server lacks) or a wrong method (405)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and (twin := _slash_twin(request)) is not None:
        return RedirectResponse(twin)
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    status, message = unsupported.reply(path, request.method, exc.status_code, exc.detail)
    return JSONResponse({"error": message}, status_code=status, headers=getattr(exc, "headers", None))


def _slash_twin(request: Request) -> str | None:
    """The URL with its trailing slash added or removed, where that is a route: Starlette's own redirect,
    done here on a miss only. With the router's ``redirect_slashes`` on, Ray Serve's per-request metrics
    label would walk every route twice (its first walk misses under a route prefix); a tenth of a fast
    route's time."""
    scope = request.scope
    path = scope.get("path", "")
    if path in ("", "/"):
        return None
    routes = request.app.router.routes
    if any(route.matches(scope)[0] != Match.NONE for route in routes):
        return None  # a route's own 404 (a missing static file), not a miss of the router
    twin = {**scope, "path": path.rstrip("/") if path.endswith("/") else path + "/"}
    return str(URL(scope=twin)) if any(route.matches(twin)[0] != Match.NONE for route in routes) else None


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """A bug: the same JSON shape for the plugins, the type for the operator; the traceback goes to the log
    (Starlette re-raises after answering), the message stays out of the reply in case it holds a secret."""
    return JSONResponse({"error": f"Internal error ({type(exc).__name__}); the server log has the details."},
                        status_code=http_status(exc))


def create_api(routers=ROUTERS) -> FastAPI:
    """A FastAPI app with ``routers`` mounted; its routes read the replica's ``Services``."""
    from audiomuse_ray import __version__

    api = FastAPI(title="audiomuse-ray", version=__version__, description=DESCRIPTION, docs_url=None,
                  openapi_url=OPENAPI_URL, redoc_url=None, redirect_slashes=False)  # see _slash_twin
    for router in routers:
        api.include_router(router)
    _mount_docs(api)
    api.add_exception_handler(AudioMuseError, _typed_error)
    api.add_exception_handler(RequestValidationError, _unreadable_request)
    api.add_exception_handler(StarletteHTTPException, _routing_error)
    api.add_exception_handler(Exception, _unexpected_error)
    api.add_middleware(BearerGuard)
    api.openapi = lambda: _document(api)
    api.router.routes.insert(0, ServeRouteName(_full_paths(api.routes), FULL_PATH_PREFIXES, OPENAPI_URL))
    return api


def _full_paths(routes) -> list[str]:
    """The declared path of every route, also inside included routers."""
    out = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        out.extend(_full_paths(nested.routes) if nested is not None else [getattr(route, "path", "")])
    return out


OPENAPI_URL, DOCS_URL, DOCS_ASSETS = "/api/openapi.json", "/api/docs", "/api/docs/assets"


def _mount_docs(api: FastAPI) -> None:
    """``/api/docs``: Swagger UI from the files of the ``swagger-ui-py`` wheel, served here; FastAPI's
    default page loads them from a CDN, which a self-hosted server often cannot reach."""
    import importlib.resources

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = importlib.resources.files("swagger_ui") / "static"
    api.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    @api.get(DOCS_URL, include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title="audiomuse-ray API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")


def _document(api: FastAPI) -> dict:
    """FastAPI's document, saying what this API really answers to a request it cannot read: a 400 with
    ``{"error": sentence}``, where FastAPI would write its own 422 (routes that answer 422 themselves,
    like the instant playlist, keep theirs)."""
    if api.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                generated = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
                if generated.get("$ref", "").endswith("/HTTPValidationError"):
                    del responses["422"]
                    responses.setdefault("400", {"description": "The request could not be read.", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorReply"}}}})
        schemas = schema.get("components", {}).get("schemas", {})
        for generated in ("HTTPValidationError", "ValidationError"):
            schemas.pop(generated, None)
        api.openapi_schema = schema
    return api.openapi_schema

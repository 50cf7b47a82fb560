"""The FastAPI application: API routes, the built frontend at /, middleware, error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema

from .. import __version__
from ..layout import LayoutCache
from ..settings import Settings, get_settings
from . import errors
from .cache import BodyCache
from .export import router as export_router
from .lanes import Lanes
from .middleware import GuardMiddleware
from .routes import BODY_MODELS, router


def frontend_dir(settings: Settings) -> Path | None:
    path = Path(settings.frontend_dist)
    return path if (path / "index.html").is_file() else None


def serve_frontend(app: FastAPI, dist: Path) -> None:
    """The built pages and their assets, and nothing else: a mount at / would also answer for
    /api/... paths (say OPTIONS /api/trace with "405 Allow: GET"), where the API must answer."""
    pages = {"/": dist / "index.html", "/embed": dist / "embed" / "index.html",
             "/embed/": dist / "embed" / "index.html"}
    for path, file in pages.items():
        if file.is_file():
            app.add_api_route(path, _page(file), methods=["GET", "HEAD"],
                              include_in_schema=False)
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")


def _page(file: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def page() -> FileResponse:
        return FileResponse(file, media_type="text/html")

    return page


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's schema, with the bodies that routes read themselves (routes._body)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            _, defs = models_json_schema([(m, "validation") for m in BODY_MODELS],
                                         ref_template="#/components/schemas/{model}")
            for model in defs.get("$defs", {}).values():
                for prop in model.get("properties", {}).values():
                    if "default" in prop and prop["default"] is None:
                        del prop["default"]  # as FastAPI writes an optional field's schema
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                defs.get("$defs", {}))
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.lanes.shutdown()  # the worker processes end with the server

    app = FastAPI(
        title="gradtrace",
        version=__version__,
        description="Step through the forward and backward passes of an expression.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.layouts = LayoutCache(settings.layout_cache_entries,
                                     settings.provisional_layout_s,
                                     max_bytes=settings.layout_cache_bytes)
    app.state.lanes = Lanes(settings, app.state.layouts)
    app.state.traces = BodyCache(settings.trace_cache_bytes)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    errors.install(app)
    app.include_router(router)
    app.include_router(export_router)
    dist = frontend_dir(settings)
    if dist is not None:
        serve_frontend(app, dist)
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes,
                       body_timeout_s=settings.body_timeout_s,
                       max_pending_bytes=settings.max_pending_bytes,
                       counts=app.state.lanes.counts)
    return app

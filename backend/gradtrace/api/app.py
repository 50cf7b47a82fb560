"""The FastAPI application: API routes, the built frontend at /, middleware, error handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..layout import LayoutCache
from ..settings import Settings, get_settings
from . import errors
from .cache import BodyCache
from .export import router as export_router
from .middleware import GuardMiddleware
from .routes import router
from .runner import Runner


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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="gradtrace",
        version=__version__,
        description="Step through the forward and backward passes of an expression.",
    )
    app.state.settings = settings
    app.state.runner = Runner(settings.worker_threads, settings.queue_limit)
    app.state.layouts = LayoutCache(settings.layout_cache_entries,
                                     settings.provisional_layout_s,
                                     max_bytes=settings.layout_cache_bytes)
    app.state.traces = BodyCache(settings.trace_cache_bytes)
    errors.install(app)
    app.include_router(router)
    app.include_router(export_router)
    dist = frontend_dir(settings)
    if dist is not None:
        serve_frontend(app, dist)
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    return app

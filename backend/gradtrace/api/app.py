"""The FastAPI application: API routes, the built frontend at /, middleware, error handlers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..layout import LayoutCache
from ..settings import Settings, get_settings
from . import errors
from .cache import BodyCache
from .middleware import GuardMiddleware
from .routes import router
from .runner import Runner


def frontend_dir(settings: Settings) -> Path | None:
    path = Path(settings.frontend_dist)
    return path if (path / "index.html").is_file() else None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="gradtrace",
        version=__version__,
        description="Step through the forward and backward passes of an expression.",
    )
    app.state.settings = settings
    app.state.runner = Runner(settings.worker_threads, settings.queue_limit)
    app.state.layouts = LayoutCache(settings.layout_cache_entries)
    app.state.traces = BodyCache(settings.trace_cache_bytes)
    errors.install(app)
    app.include_router(router)
    dist = frontend_dir(settings)
    if dist is not None:
        app.mount("/", StaticFiles(directory=dist, html=True), name="frontend")
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    return app

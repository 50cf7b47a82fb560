"""Every error becomes `{"error": {type, message, start, end}}` here, and nowhere else."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..cancel import Cancelled
from ..errors import GradtraceError
from ..jobs import InvalidRequest, describe_invalid
from ..render import PictureUnavailable
from ..standalone import StandaloneUnavailable
from .lanes import Overloaded, WorkerFailed
from .middleware import security_headers

log = logging.getLogger("gradtrace")


def error_response(status: int, type: str, message: str, start: int = 0, end: int = 0,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    # Whatever a message quotes of the request, the answer is UTF-8 (a lone surrogate is "?").
    message = message.encode("utf-8", "replace").decode("utf-8")
    body = {"error": {"type": type, "message": message, "start": start, "end": end}}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(GradtraceError)
    async def domain_error(request: Request, exc: GradtraceError) -> JSONResponse:
        return error_response(400, exc.type, exc.message, exc.start, exc.end)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "request", describe_invalid(exc.errors()))

    @app.exception_handler(InvalidRequest)
    async def invalid_body(request: Request, exc: InvalidRequest) -> JSONResponse:
        return error_response(422, "request", str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names the methods of the first route of the path; a path served by two
            # routes (GET and POST /api/standalone.html) allows both, as the OpenAPI document
            # says.
            path = app.openapi().get("paths", {}).get(request.url.path, {})
            allowed = sorted(m.upper() for m in path if m in ("get", "post", "put", "delete"))
            if allowed:
                headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return error_response(exc.status_code, "http", str(exc.detail), headers=headers)

    @app.exception_handler(Overloaded)
    async def overloaded(request: Request, exc: Overloaded) -> JSONResponse:
        return error_response(503, "overloaded", "the server is busy; try again in a moment",
                              headers={"Retry-After": "1"})

    @app.exception_handler(WorkerFailed)
    async def worker_failed(request: Request, exc: WorkerFailed) -> JSONResponse:
        log.error("a worker process died on %s", request.url.path)
        return error_response(503, "overloaded", "the server could not finish this work (its "
                              "worker stopped); try again in a moment",
                              headers={"Retry-After": "1"})

    @app.exception_handler(StandaloneUnavailable)
    async def no_viewer(request: Request, exc: StandaloneUnavailable) -> JSONResponse:
        # exc names server paths: not for the client
        return error_response(503, "unavailable", "this server has no standalone viewer built "
                              "(npm run build in frontend/)")

    @app.exception_handler(PictureUnavailable)
    async def no_pictures(request: Request, exc: PictureUnavailable) -> JSONResponse:
        log.error("%s", exc)  # for the operator; the client is told what still works
        return error_response(503, "unavailable", "this server cannot draw PNG or PDF pictures "
                              "right now (its converter failed); the SVG picture still works",
                              headers={"Retry-After": "30"})

    @app.exception_handler(Cancelled)
    async def cancelled(request: Request, exc: Cancelled) -> JSONResponse:
        # Work stopped while someone still waited for it: say so, and that a retry may succeed.
        return error_response(503, "cancelled", "the work for this request was stopped; try "
                              "again", headers={"Retry-After": "1"})

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return error_response(400, "limit", "the request is nested too deeply")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        # This handler runs outside GuardMiddleware: the security headers are added here.
        headers = {k.decode(): v.decode() for k, v in security_headers(request.url.path)}
        return error_response(500, "internal", "internal error: please report the input",
                              headers=headers)

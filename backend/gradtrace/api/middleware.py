"""Pure ASGI middleware: the request body capped in bytes and time, security headers on every
response, and the app cancelled when its client hangs up."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Pages get a strict policy; /embed may be framed by any origin (slides on any host), every other
# page only by ourselves. Inline styles are allowed because KaTeX sets style attributes.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frames}")
# Swagger UI at /docs loads its script and styles from a CDN.
_DOCS_PATHS = ("/docs", "/redoc")


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if path.startswith(_DOCS_PATHS):
        # Their scripts come from a CDN, so no script policy here; but no other site frames them.
        return [*headers, (b"content-security-policy", b"frame-ancestors 'self'"),
                (b"x-frame-options", b"SAMEORIGIN")]
    embed = path == "/embed" or path.startswith("/embed/")
    frames = "*" if embed else "'self'"
    headers.append((b"content-security-policy", _CSP.format(frames=frames).encode()))
    if not embed:
        headers.append((b"x-frame-options", b"SAMEORIGIN"))
    return headers


class GuardMiddleware:
    """Security headers on every answer; the request body read whole (up to `max_body_bytes`,
    within `body_timeout_s`) before the app runs; and the app cancelled when the client hangs up.

    uvicorn does not cancel a request's task when its client goes away; it only answers
    `http.disconnect` to the next `receive()`. With the body read here, that next `receive()` is
    ours: a watcher waits on it, and a disconnect before the answer is complete cancels the app,
    which cancels the work it awaits (lanes.py sets the work's `CancelToken`, or never starts it).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_s: float,
                 max_pending_bytes: int, counts: Counter[str]) -> None:
        self.app = app
        self.max_body = max_body_bytes
        # Bytes held by all requests in progress together, bodies received and answers not yet
        # taken by their clients: however many connections upload or download at once, memory
        # stays bounded (past it, a 503 until some finish).
        self.max_pending = max_pending_bytes
        self.pending = 0
        self.body_timeout = body_timeout_s
        self.counts = counts  # "hung_up": requests cancelled because their client left

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = security_headers(path)
        answered = False

        async def send_with_headers(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != b"server"),
                    *(h for h in extra if h[0] not in names),
                ]
            elif message["type"] == "http.response.body":
                answered = answered or not message.get("more_body")
                # uvicorn's send returns once the client has taken most of it (flow control).
                size = len(message.get("body", b""))
                self.pending += size
                try:
                    await send(message)
                finally:
                    self.pending -= size
                return
            await send(message)

        if self.pending > self.max_pending:
            self.counts["refused_busy"] += 1
            await _error(send_with_headers, 503, "overloaded", "the server is busy sending and "
                         "receiving other requests; try again in a moment")
            return

        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > self.max_body:
                await _error(send_with_headers, 413, "limit",
                             f"the request body is larger than {self.max_body:,} bytes")
                return

        # Read the body up to the cap before the app sees it (a chunked body has no declared
        # length), then replay it: past the cap the answer is 413, whatever the app would do.
        received = 0
        try:
            chunks: list[bytes] = []
            with anyio.move_on_after(self.body_timeout) as deadline:
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return  # the client went away
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    self.pending += len(chunk)
                    if received > self.max_body:
                        await _error(send_with_headers, 413, "limit",
                                     f"the request body is larger than {self.max_body:,} bytes")
                        return
                    if self.pending > self.max_pending:
                        self.counts["refused_busy"] += 1
                        await _error(send_with_headers, 503, "overloaded", "the server is busy "
                                     "receiving other requests; try again in a moment")
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
            if deadline.cancelled_caught:
                await _error(send_with_headers, 408, "timeout",
                             f"the request body did not arrive within {self.body_timeout:g} s")
                return
            body = b"".join(chunks)
            del chunks
            await self._run(scope, body, receive, send_with_headers, lambda: answered)
        finally:
            self.pending -= received

    async def _run(self, scope: Scope, body: bytes, receive: Receive, send: Send,
                   answered: Callable[[], bool]) -> None:
        replayed = False
        gone = anyio.Event()

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()  # the app listening for a disconnect hears the watcher's
            return {"type": "http.disconnect"}

        async with anyio.create_task_group() as tg:
            async def watch() -> None:
                if (await receive())["type"] != "http.disconnect":
                    return  # not a server that follows ASGI here: stop watching, never spin
                gone.set()
                if not answered():  # uvicorn says "disconnect" once the answer is sent, too
                    self.counts["hung_up"] += 1
                    tg.cancel_scope.cancel()

            tg.start_soon(watch)
            await self.app(scope, replay, send)
            tg.cancel_scope.cancel()


def error_answer(status: int, type: str, message: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of an error answered outside the app (here, and by the connection's
    protocol): the body errors.error_response writes, and `Retry-After` on a 503."""
    body = json.dumps({"error": {"type": type, "message": message, "start": 0,
                                 "end": 0}}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    if status == 503:
        headers.append((b"retry-after", b"1"))
    return headers, body


async def _error(send: Send, status: int, type: str, message: str) -> None:
    headers, body = error_answer(status, type, message)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

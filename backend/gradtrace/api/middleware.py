"""Pure ASGI middleware: a cap on the request body, and security headers on every response."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

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
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = security_headers(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != b"server"),
                    *(h for h in extra if h[0] not in names),
                ]
            await send(message)

        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > self.max_body:
                await self._too_large(send_with_headers)
                return

        # Read the body up to the cap before the app sees it (a chunked body has no declared
        # length), then replay it: past the cap the answer is 413, whatever the app would do.
        chunks: list[bytes] = []
        received = 0
        more = scope.get("method", "GET") in ("POST", "PUT", "PATCH")
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body:
                await self._too_large(send_with_headers)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"error": {
            "type": "limit", "message": f"the request body is larger than {self.max_body:,} bytes",
            "start": 0, "end": 0}}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

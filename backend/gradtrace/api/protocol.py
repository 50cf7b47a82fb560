"""The HTTP connection: uvicorn's h11 protocol with the time-outs and the bound it lacks.

uvicorn closes a kept-alive connection `timeout_keep_alive` after its last answer, but a connection
that never finishes its request head (request line and headers) is kept for ever, and its
`limit_concurrency` counts such sockets as if they were work: 85 idle connections used to shut the
service. So `gradtrace serve` runs uvicorn without `limit_concurrency` (work is bounded by the
lanes, api/lanes.py) and with this protocol, which adds:

- a head time-out: a request's head must be complete `header_timeout_s` after the connection opens
  or after the first byte of a following request (a deadline, not an idle timer, so a client that
  sends a byte a second gains nothing). Past it the connection gets a JSON 408 and is closed;
- a bound on open connections: past `max_connections`, the connections that are not in a request
  (waiting for a head, or kept alive) and have been quiet for 5 s are closed, oldest first;
  when none can be, the new connection gets the project's JSON 503 with Retry-After, never
  uvicorn's plain text.

- a write time-out: a client that reads nothing of its answer for `write_timeout_s` is dropped,
  and the answer's buffer with it.

The request body has its own deadline, in the middleware (`body_timeout_s`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..settings import Settings, get_settings
from .middleware import error_answer, security_headers

# A connection quiet this long, and not in a request, may be shed. Not less: in a burst of
# thousands of connections the event loop runs seconds behind, and a connection whose request
# is waiting to be read would look quiet (the fairness bench saw them reset).
SHED_AFTER_S = 5.0
REFUSED_LINGER_S = 5.0  # a refused connection is read until its request's head ends, at most
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 503: b"Service Unavailable"}


def raw_error(status: int, type: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer with the error JSON and the security headers, for a connection the
    app never saw."""
    headers, body = error_answer(status, type, message)
    headers += security_headers("/api")
    head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
    return head + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body


class GuardedH11Protocol(H11Protocol):
    settings: Settings | None = None  # None: the environment's (get_settings)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.settings or get_settings()
        self.header_timeout = settings.header_timeout_s
        self.max_connections = settings.max_connections
        self.opened = 0.0
        self.active = 0.0  # when it last received a byte or finished an answer
        self.refused = False
        self.refused_tail = b""
        self.head_timer: asyncio.TimerHandle | None = None
        self.head_bytes = 0  # bytes of the head being awaited
        self.write_timeout = settings.write_timeout_s
        self.write_timer: asyncio.TimerHandle | None = None

    # -- state ---------------------------------------------------------------------------------

    def waiting_for_head(self) -> bool:
        """Not in a request: nothing of the next head has been parsed into a request yet."""
        in_request = self.cycle is not None and not self.cycle.response_complete
        return not in_request and self.conn.their_state is h11.IDLE

    # -- uvicorn's hooks -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.opened = self.active = self.loop.time()
        self._arm()
        if len(self.connections) > self.max_connections:
            self._shed()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            # Its answer is sent; its request is read and dropped, then the connection closed
            # (closing with the request unread would reset it before the client reads the 503).
            self.refused_tail = (self.refused_tail + data)[-4:]
            if b"\r\n\r\n" in self.refused_tail or b"\r\n\r\n" in data:
                self.transport.close()
            return
        self.active = self.loop.time()
        if self.head_timer is None and self.waiting_for_head():
            self._arm()  # the first bytes of a following request on a kept-alive connection
        if self.head_timer is not None:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.head_timer is not None and not self.waiting_for_head():
            self._disarm()  # the head is in: the request runs under the app's own limits

    def on_response_complete(self) -> None:
        self.active = self.loop.time()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        """The client has not read what was sent: if it reads nothing more for
        `write_timeout_s`, the connection is dropped with its buffer (close() would keep both
        for as long as the client keeps its window shut)."""
        super().pause_writing()
        if self.write_timer is None:
            self.write_timer = self.loop.call_later(self.write_timeout, self.transport.abort)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None

    def send_400_response(self, msg: str) -> None:
        """A request that is not HTTP (or whose head is over h11's size limit): the project's
        JSON 400, not uvicorn's plain text."""
        self._disarm()
        self.transport.write(raw_error(400, "request", f"the request is not valid HTTP: {msg}"))
        self.transport.close()

    # -- time-out and bound --------------------------------------------------------------------

    def _arm(self) -> None:
        self._disarm()
        self.head_bytes = 0
        self.head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or not self.waiting_for_head():
            return
        if self.head_bytes:  # a request was begun: say why it ends
            self.transport.write(raw_error(
                408, "timeout", f"the request's headers did not arrive within "
                f"{self.header_timeout:g} s"))
        self.transport.close()

    def _shed(self) -> None:
        """Close connections that are not in a request and have been quiet for `SHED_AFTER_S`,
        oldest first, until the count is within the bound (a connection that just opened is
        given time to send its request); if that is not enough, this new connection is told the
        server is busy."""
        now = self.loop.time()
        idle = sorted((p for p in self.connections
                       if isinstance(p, GuardedH11Protocol) and p is not self
                       and p.waiting_for_head() and now - p.active >= SHED_AFTER_S
                       and not p.transport.is_closing()),
                      key=lambda p: p.opened)
        excess = len(self.connections) - self.max_connections
        for p in idle[:excess]:
            p._disarm()
            p.transport.close()
            self.connections.discard(p)  # closing is asynchronous; it no longer counts
        if len(self.connections) > self.max_connections:
            self._refuse()

    def _refuse(self) -> None:
        """The JSON 503, then the connection closed once its request has been read (or after
        `REFUSED_LINGER_S`)."""
        self._disarm()
        self.refused = True
        self.connections.discard(self)
        self.transport.write(raw_error(
            503, "overloaded", "the server has too many open connections; try again in a "
            "moment"))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(REFUSED_LINGER_S, self.transport.close)


def protocol_for(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol with these settings rather than the environment's (an in-process server)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"settings": settings})

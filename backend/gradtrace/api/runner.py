"""CPU-bound work off the event loop, in a bounded pool, with a bounded queue.

Parsing, tracing and layout are CPU work; run on the event loop they would stall every other
client. They run in at most `worker_threads` threads; at most `queue_limit` more requests may
wait for one, and past that a request is answered 503 with Retry-After at once, so latency stays
bounded under load instead of growing without limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from ..cancel import CancelToken

T = TypeVar("T")


class Overloaded(Exception):
    """Too many requests are waiting for a worker."""


class Runner:
    def __init__(self, threads: int, queue_limit: int) -> None:
        self.limiter = anyio.CapacityLimiter(threads)
        self.capacity = threads + queue_limit
        self.in_flight = 0

    async def run(self, fn: Callable[..., T], *args: object,
                  cancel: CancelToken | None = None) -> T:
        """`fn(*args)` in a worker thread. If the awaiting task is cancelled, `cancel` is set:
        the work stops at its next check (`Cancelled`, in the thread), and the task does not wait
        for it."""
        if self.in_flight >= self.capacity:
            raise Overloaded()
        self.in_flight += 1  # only touched on the event loop thread: no lock needed
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter,
                                                  abandon_on_cancel=cancel is not None)
        except anyio.get_cancelled_exc_class():
            if cancel is not None:
                cancel.cancel()
            raise
        finally:
            self.in_flight -= 1

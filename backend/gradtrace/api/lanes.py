"""Where work runs: two lanes by cost class, so that cheap requests never wait behind costly ones.

- The light lane: `worker_threads` threads in the server process, for work estimated at no more
  than `light_work_s` (cost.py). A step of a lecture example, a slider's new values, a cached
  picture: milliseconds each.
- The heavy lane: `heavy_processes` worker processes at a lower CPU priority (`heavy_nice`), for
  everything else. Threads share Python's GIL, so a costly check running in a thread of the server
  would slow every cheap request however the threads were scheduled; in another process, at a
  lower priority, it takes only the CPU that nobody else wants.

Lanes are by cost, not by client (clients share addresses behind a NAT): a request is offered to
the light lane with a budget, which its work checks against the estimate from its graph before any
pass runs (`OverBudget`); a request whose body or query is larger than `light_request_bytes` goes
to the heavy lane straight away, so that even reading it never happens in the server process.

Each lane holds at most its workers plus a queue (`queue_limit`, `heavy_queue_limit`); past that
the answer is a JSON 503 with Retry-After (`Overloaded`), so waiting stays bounded. The work gets a
`CancelToken`: when the task awaiting it is cancelled (its client hung up, middleware.py), the token
is set, and the work stops at its next check, or never starts if it was still queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from .. import jobs
from ..cancel import CancelToken
from ..cost import Budget, OverBudget
from ..layout import LayoutCache
from ..settings import Settings

T = TypeVar("T")
log = logging.getLogger("gradtrace")


class Overloaded(Exception):
    """Too many requests are waiting for a worker of the lane."""


class WorkerFailed(Exception):
    """A worker process died while it ran the work (killed for memory, say); a new one starts."""


class ThreadLane:
    """`fn(*args, cancel=token, **kwargs)` in at most `threads` threads of this process."""

    def __init__(self, threads: int, queue_limit: int, counts: Counter[str] | None = None) -> None:
        self.limiter = anyio.CapacityLimiter(threads)
        self.capacity = threads + queue_limit
        self.in_flight = 0
        self.counts = counts if counts is not None else Counter()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """If the awaiting task is cancelled, the token is set: the work stops at its next check
        (`Cancelled`, in the thread), and the task does not wait for it."""
        if self.in_flight >= self.capacity:
            raise Overloaded()
        token = CancelToken()
        self.in_flight += 1  # only touched on the event loop thread: no lock needed
        try:
            return await anyio.to_thread.run_sync(
                functools.partial(fn, *args, cancel=token, **kwargs), limiter=self.limiter,
                abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            token.cancel()
            self.counts["cancelled"] += 1
            raise
        finally:
            self.in_flight -= 1


class ProcessLane:
    """`fn(*args, cancel=token, **kwargs)` in one of `processes` worker processes; `fn` and its
    arguments are pickled, so `fn` is a module-level function (jobs.py).

    Each piece of work holds a slot (workers plus queue) until the worker is done with it, even
    when its client has gone: the slot's byte of shared memory is its cancel flag, so a slot is
    only reused once the work that read it has ended."""

    def __init__(self, processes: int, queue_limit: int, nice: int,
                 counts: Counter[str] | None = None) -> None:
        self.processes = processes
        self.nice = nice
        self.counts = counts if counts is not None else Counter()
        # forkserver: the server process has threads, and forking it would copy their locks.
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["gradtrace.jobs"])
        slots = processes + queue_limit
        self._flags = self._ctx.RawArray("b", slots)
        self._free = list(range(slots))
        self._executor: ProcessPoolExecutor | None = None

    @property
    def in_flight(self) -> int:
        return len(self._flags) - len(self._free)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # No max_tasks_per_child: before Python 3.13.10 the pool stops taking work once a
            # worker is replaced at its limit (CPython gh-115634; the fairness bench lost a
            # layout every 200). Memory stays bounded without it: caches count their bytes.
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=self._ctx, initializer=jobs.start_worker,
                initargs=(self._flags, self.nice))
        return self._executor

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._free:
            raise Overloaded()
        slot = self._free.pop()
        self._flags[slot] = 0
        loop = asyncio.get_running_loop()
        pool = self._pool()
        try:
            future: Future[T] = pool.submit(jobs.work, slot, fn, args, kwargs)
        except BrokenProcessPool:
            self._free.append(slot)
            self._restart(pool)
            raise WorkerFailed() from None
        future.add_done_callback(functools.partial(self._release, loop, slot))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            self._flags[slot] = 1  # running: it stops at its next check; queued: never starts
            future.cancel()
            self.counts["cancelled"] += 1
            raise
        except BrokenProcessPool:
            self._restart(pool)
            raise WorkerFailed() from None

    def _release(self, loop: asyncio.AbstractEventLoop, slot: int, _: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the server is stopping
            loop.call_soon_threadsafe(self._free.append, slot)

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        """A new pool for the next work, once per broken pool (several requests may see it)."""
        if self._executor is broken:
            log.error("a worker process died; starting new ones")
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def shutdown(self) -> None:
        if self._executor is not None:
            processes = list((getattr(self._executor, "_processes", None) or {}).values())
            for p in processes:
                p.terminate()  # work in progress is not waited for: the server is stopping
            # Waiting (for processes that are ending) lets the pool release its queues' locks.
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class Lanes:
    """The two lanes, and the rule that chooses between them."""

    def __init__(self, settings: Settings, layouts: LayoutCache) -> None:
        self.settings = settings
        self.layouts = layouts
        self.counts: Counter[str] = Counter()  # "light", "heavy", "deferred", "cancelled", ...
        self.budget = Budget(settings.light_work_s, settings.light_tool_s)
        self.light = ThreadLane(settings.worker_threads, settings.queue_limit, self.counts)
        self.heavy = ProcessLane(settings.heavy_processes, settings.heavy_queue_limit,
                                 settings.heavy_nice, self.counts)

    async def run(self, fn: Callable[..., T], *args: Any, size: int) -> T:
        """`fn(*args, cancel=, layouts=, budget=)` in the light lane if `size` (the request's
        bytes) is small and the work, estimated from its graph, fits `light_work_s` in this
        process and `light_tool_s` in dot and rsvg-convert; else in the heavy lane, with its own
        layout cache and no budget."""
        s = self.settings
        if size <= s.light_request_bytes:
            try:
                result = await self.light.run(fn, *args, layouts=self.layouts,
                                              budget=self.budget)
            except OverBudget:
                self.counts["deferred"] += 1
            else:
                self.counts["light"] += 1
                return result
        self.counts["heavy"] += 1
        return await self.heavy.run(fn, *args, layouts=None, budget=None)

    def shutdown(self) -> None:
        self.heavy.shutdown()

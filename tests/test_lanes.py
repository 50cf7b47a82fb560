"""The API's lanes (api/lanes.py): light work in threads, costly work in worker processes at a
lower priority, each bounded, and work whose awaiting task is cancelled told to stop."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator

import anyio
import pytest

from gradtrace import jobs
from gradtrace.api.lanes import Lanes, Overloaded, ProcessLane, ThreadLane, WorkerFailed
from gradtrace.cancel import Cancelled, CancelToken
from gradtrace.layout import LayoutCache
from gradtrace.settings import Settings

from . import lane_work


def test_a_cancelled_request_cancels_its_work() -> None:
    """The task awaiting the work is cancelled (as when a request's task is): the token is set,
    the task does not wait for the thread, and the thread stops at its next check."""
    tokens: list[CancelToken] = []
    stopped = threading.Event()

    def work(cancel: CancelToken) -> None:
        tokens.append(cancel)
        try:
            while True:  # a long computation that checks its token between steps
                cancel.raise_if_cancelled()
                time.sleep(0.005)
        except Cancelled:
            stopped.set()
            raise

    async def main() -> tuple[float, ThreadLane]:
        lane = ThreadLane(threads=2, queue_limit=2)
        t0 = time.monotonic()
        with anyio.move_on_after(0.1):
            await lane.run(work)
        assert lane.in_flight == 0
        return time.monotonic() - t0, lane

    waited, lane = anyio.run(main)
    assert tokens[0].cancelled and waited < 1.0
    assert stopped.wait(2.0)
    assert lane.counts["cancelled"] == 1


def test_work_without_cancellation_runs_to_its_end() -> None:
    async def main() -> int:
        return await ThreadLane(threads=1, queue_limit=0).run(lambda cancel: 6 * 7)

    assert anyio.run(main) == 42


def test_a_full_thread_lane_answers_overloaded() -> None:
    release = threading.Event()

    async def main() -> None:
        lane = ThreadLane(threads=1, queue_limit=1)
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(lambda: lane.run(lambda cancel: release.wait(5)))
            await anyio.sleep(0.05)
            with pytest.raises(Overloaded):
                await lane.run(lambda cancel: None)
            release.set()

    anyio.run(main)


# -- the heavy lane: real worker processes ----------------------------------------------------


@pytest.fixture
def heavy() -> Iterator[ProcessLane]:
    lane = ProcessLane(processes=1, queue_limit=1, nice=5)
    yield lane
    lane.shutdown()


def test_heavy_work_runs_in_another_process_at_a_lower_priority(heavy: ProcessLane) -> None:
    async def main() -> tuple[int, int]:
        return await heavy.run(lane_work.whoami)

    pid, niceness = anyio.run(main)
    assert pid != os.getpid()
    assert niceness >= os.nice(0) + 5 or niceness == 19


def test_cancelling_heavy_work_stops_it_in_its_process(heavy: ProcessLane) -> None:
    """The flag crosses to the worker: the looping job stops, and the one worker is free for the
    next job at once (without the flag it would loop for its full 30 s)."""
    async def main() -> float:
        with anyio.move_on_after(0.5):
            await heavy.run(lane_work.spin, 30.0)
        t0 = time.monotonic()
        assert await heavy.run(lane_work.whoami)
        return time.monotonic() - t0

    assert anyio.run(main) < 5.0
    assert heavy.counts["cancelled"] == 1


def test_heavy_work_whose_client_left_while_queued_never_starts(heavy: ProcessLane,
                                                                tmp_path: object) -> None:
    marker = os.path.join(str(tmp_path), "started")

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: heavy.run(lane_work.spin, 1.0))  # holds the one worker
            await anyio.sleep(0.2)
            with anyio.move_on_after(0.2):  # queued behind it, then its client leaves
                await heavy.run(lane_work.touch, marker)
        await anyio.sleep(0.1)  # slots are given back by the pool's thread, via the loop
        assert heavy.in_flight == 0

    anyio.run(main)
    assert not os.path.exists(marker)


def test_a_full_heavy_lane_answers_overloaded(heavy: ProcessLane) -> None:
    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(2):  # one worker and one place in the queue
                tg.start_soon(lambda: heavy.run(lane_work.spin, 1.0))
            await anyio.sleep(0.1)
            with pytest.raises(Overloaded):
                await heavy.run(lane_work.whoami)

    anyio.run(main)


def test_a_worker_that_dies_is_replaced(heavy: ProcessLane) -> None:
    async def main() -> None:
        with pytest.raises(WorkerFailed):
            await heavy.run(lane_work.die)
        assert await heavy.run(lane_work.whoami)

    anyio.run(main)


def test_the_heavy_lane_keeps_taking_work() -> None:
    """Hundreds of jobs through one worker with the queue always full: each is answered. (The
    fairness bench lost a layout every 200 while the pool replaced its workers after 200 tasks,
    CPython gh-115634: the lane no longer does.)"""
    lane = ProcessLane(processes=1, queue_limit=20, nice=0)
    room = anyio.Semaphore(21)  # the lane's worker and queue: full, never over

    async def main() -> int:
        done = 0

        async def one() -> None:
            nonlocal done
            async with room:
                await lane.run(lane_work.whoami)
            done += 1

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for _ in range(600):
                    tg.start_soon(one)
        return done

    try:
        assert anyio.run(main) == 600
    finally:
        lane.shutdown()


def test_domain_errors_cross_from_the_worker_whole(heavy: ProcessLane) -> None:
    from gradtrace.errors import GradtraceError

    async def main() -> None:
        with pytest.raises(GradtraceError) as err:
            await heavy.run(jobs.trace, b'{"expr": "x +* y", "values": {}}', Settings(),
                            layouts=None, budget=None)
        assert err.value.type == "syntax" and err.value.end > err.value.start

    anyio.run(main)


# -- choosing the lane ------------------------------------------------------------------------


def _chosen(body: dict[str, object], settings: Settings | None = None) -> dict[str, int]:
    settings = settings or Settings(heavy_processes=1)
    lanes = Lanes(settings, LayoutCache(8))

    async def main() -> None:
        await lanes.run(jobs.trace, json.dumps(body).encode(), settings,
                        size=len(json.dumps(body)))

    try:
        anyio.run(main)
    finally:
        lanes.shutdown()
    return dict(lanes.counts)


def test_a_small_trace_runs_in_the_light_lane() -> None:
    assert _chosen({"expr": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}) == {"light": 1}


def test_a_costly_check_is_deferred_to_the_heavy_lane_before_any_pass() -> None:
    lines = [f"t{i} = tanh(x{i % 40}) * t{i - 1}" if i else "t0 = x0" for i in range(300)]
    body = {"expr": "\n".join(lines), "values": {f"x{i}": 0.1 * i for i in range(40)},
            "check": True}
    assert _chosen(body) == {"deferred": 1, "heavy": 1}


def test_a_large_body_goes_to_the_heavy_lane_unread() -> None:
    settings = Settings(heavy_processes=1, light_request_bytes=100)
    body = {"expr": "sum(w)", "values": {"w": [1.0] * 100}}
    assert _chosen(body, settings) == {"heavy": 1}


def test_a_long_expression_is_refused_by_the_light_lane_before_it_is_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading 8,500 characters costs more than the light lane's budget: the text's length says
    so before the parser runs (in this process, where the light lane's threads are, it never
    runs; the worker process parses it)."""
    import gradtrace.analysis

    parsed: list[str] = []
    real = gradtrace.analysis.parse
    monkeypatch.setattr(gradtrace.analysis, "parse",
                        lambda text, **kw: parsed.append(text) or real(text, **kw))
    lines = [f"t{i} = x * {i}" for i in range(600)]
    body = {"expr": "\n".join(lines) + "\nt1", "values": {"x": 1.0}}
    assert _chosen(body) == {"deferred": 1, "heavy": 1}
    assert parsed == []

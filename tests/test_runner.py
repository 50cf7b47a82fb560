"""The API's worker pool (api/runner.py): work whose awaiting task is cancelled is told to stop."""

from __future__ import annotations

import threading
import time

import anyio

from gradtrace.api.runner import Runner
from gradtrace.cancel import Cancelled, CancelToken


def test_a_cancelled_request_cancels_its_work() -> None:
    """The task awaiting the work is cancelled (as when a request's task is): the token is set,
    the task does not wait for the thread, and the thread stops at its next check."""
    token = CancelToken()
    stopped = threading.Event()

    def work() -> None:
        try:
            while True:  # a long computation that checks its token between steps
                token.raise_if_cancelled()
                time.sleep(0.005)
        except Cancelled:
            stopped.set()
            raise

    async def main() -> float:
        runner = Runner(threads=2, queue_limit=2)
        t0 = time.monotonic()
        with anyio.move_on_after(0.1):
            await runner.run(work, cancel=token)
        assert runner.in_flight == 0
        return time.monotonic() - t0

    waited = anyio.run(main)
    assert token.cancelled and waited < 1.0
    assert stopped.wait(2.0)


def test_work_without_a_token_runs_to_its_end() -> None:
    async def main() -> int:
        return await Runner(threads=1, queue_limit=0).run(lambda: 6 * 7)

    assert anyio.run(main) == 42

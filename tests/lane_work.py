"""Jobs for tests/test_lanes.py, in a module of their own: a worker process imports them by name."""

from __future__ import annotations

import os
import time

from gradtrace.cancel import CancelToken


def whoami(*, cancel: CancelToken, **_: object) -> tuple[int, int]:
    return os.getpid(), os.nice(0)


def spin(seconds: float, *, cancel: CancelToken, **_: object) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        cancel.raise_if_cancelled()
        time.sleep(0.01)


def touch(path: str, *, cancel: CancelToken, **_: object) -> None:
    open(path, "w").close()


def die(*, cancel: CancelToken, **_: object) -> None:
    os._exit(3)

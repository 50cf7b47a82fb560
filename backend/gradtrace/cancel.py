"""Stopping work that nobody waits for any more.

The token travels with an `Analysis`; long loops (the forward pass, the numeric check's passes, the
Hessian's columns) call `raise_if_cancelled` between their steps. The API's runner sets it when the
task awaiting the work is cancelled (api/runner.py).
"""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """The work was stopped because nobody waits for it any more."""


class CancelToken:
    """Set once by whoever gave up on the work; checked by the work between its steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

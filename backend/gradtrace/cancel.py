"""Stopping work that nobody waits for any more.

The token travels with an `Analysis`; long loops (the forward pass, the numeric check's passes, the
Hessian's columns) call `raise_if_cancelled` between their steps. The API's lanes set it when the
task awaiting the work is cancelled (api/lanes.py): a thread's token is an event, a worker
process's token one byte of memory shared with the server process.
"""

from __future__ import annotations

import threading
from collections.abc import MutableSequence


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
        if self.cancelled:
            raise Cancelled()


class SharedCancelToken(CancelToken):
    """A token whose flag is `flags[index]`, a byte of shared memory: set in the server process,
    read in the worker process that runs the work."""

    def __init__(self, flags: MutableSequence[int], index: int) -> None:
        self._flags = flags
        self._index = index

    def cancel(self) -> None:
        self._flags[self._index] = 1

    @property
    def cancelled(self) -> bool:
        return bool(self._flags[self._index])

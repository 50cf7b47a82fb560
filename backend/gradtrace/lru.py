"""One bounded, thread-safe LRU map for the caches (layouts by structure, trace responses).

Bounded by a number of entries, by the total size of the values, or both; it counts hits and
misses so tests and benchmarks can tell what a request cost.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedLRU(Generic[V]):
    def __init__(self, max_entries: int | None = None, max_size: int | None = None,
                 size: Callable[[V], int] = lambda v: 1) -> None:
        self.max_entries = max_entries
        self.max_size = max_size
        self._measure = size
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def peek(self, key: str) -> V | None:
        """The value, without counting a hit or a miss or making it recent."""
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, value: V) -> None:
        n = self._measure(value)
        if self.max_size is not None and n > self.max_size // 4:
            return  # one huge value must not flush everything else
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.size -= self._measure(old)
            self._data[key] = value
            self.size += n
            while self._data and (
                (self.max_entries is not None and len(self._data) > self.max_entries)
                or (self.max_size is not None and self.size > self.max_size)
            ):
                _, evicted = self._data.popitem(last=False)
                self.size -= self._measure(evicted)

    def clear(self) -> None:
        """Forget every entry (benchmarks measure a first request this way)."""
        with self._lock:
            self._data.clear()
            self.size = 0

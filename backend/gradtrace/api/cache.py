"""A bounded LRU of serialized trace responses, keyed by (expression, values, seed).

A lecture replays the same few requests many times (stepping back and forth re-requests nothing,
but every student opening the same embedded slide does). The cache holds the response bytes, so a
hit costs one hash of the request and no trace and no JSON encoding. Memory is bounded by the total
size of the stored bodies, not by their count, since one tensor trace can be a thousand scalar ones.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any


def request_key(expr: str, values: dict[str, Any], seed: Any) -> str:
    canonical = json.dumps([expr, values, seed], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class BodyCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._data.get(key)
            if body is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:  # one huge body must not flush everything else
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._data[key] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                _, evicted = self._data.popitem(last=False)
                self.size -= len(evicted)

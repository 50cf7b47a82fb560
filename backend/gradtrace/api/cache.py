"""A bounded LRU of serialized trace responses, keyed by the hash of the request's bytes.

A lecture replays the same few requests many times (stepping back and forth re-requests nothing,
but every student opening the same embedded slide does). The cache holds the response bytes, so a
hit costs one hash of the request and no trace and no JSON encoding. Memory is bounded by the total
size of the stored bodies, not by their count, since one tensor trace can be a thousand scalar ones.
"""

from __future__ import annotations

from ..lru import BoundedLRU


class BodyCache(BoundedLRU[bytes]):
    """Response bodies, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_size=max_bytes, size=len)

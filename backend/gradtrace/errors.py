"""The one error type of the domain code.

Every problem with a user's input (text, values, seed, a limit) is a `GradtraceError` that carries
the character span in the expression where the problem is, so the API can answer 4xx with
`{"error": {type, message, start, end}}` and the browser can underline the offending text.
"""

from __future__ import annotations

from typing import Literal

ErrorType = Literal[
    "syntax", "name", "function", "arity", "shape", "value", "seed", "limit", "step"
]


class GradtraceError(Exception):
    """A user-facing error with the span `[start, end)` of the offending characters in `expr`."""

    def __init__(self, type: ErrorType, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.type: ErrorType = type
        self.message = message
        self.start = start
        self.end = max(end, start)

    def __reduce__(self) -> tuple[type[GradtraceError], tuple[ErrorType, str, int, int]]:
        # Errors cross from a worker process to the server (api/lanes.py) pickled.
        return (type(self), (self.type, self.message, self.start, self.end))

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "message": self.message, "start": self.start, "end": self.end}

    def __repr__(self) -> str:
        return f"GradtraceError({self.type!r}, {self.message!r}, {self.start}, {self.end})"

"""Test cases for reductions over an axis, softmax along an axis, shape ops and indexing
(see tests/cases.py)."""

from __future__ import annotations

from .cases import Case

CASES: dict[str, Case] = {
}

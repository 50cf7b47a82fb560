"""Test cases for the elementwise functions and comparisons of issue 12 (see tests/cases.py)."""

from __future__ import annotations

from .cases import Case

CASES: dict[str, Case] = {
}

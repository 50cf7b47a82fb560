"""Test cases for conv2d with stride and padding, pooling, linear, layer_norm, batch_norm
(see tests/cases.py)."""

from __future__ import annotations

from .cases import Case

CASES: dict[str, Case] = {
}

"""Test cases for the losses: mse, cross_entropy, nll_loss, binary cross-entropy, hinge
(see tests/cases.py)."""

from __future__ import annotations

from .cases import Case

CASES: dict[str, Case] = {
}

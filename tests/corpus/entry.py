"""One input of the reading corpus (tests/test_corpus.py checks each).

- `text`: the input exactly as it is pasted (a formula, a code cell, several lines).
- `values`: the values the request gives (JSON-like numbers and nested lists).
- `text_values`: values the text itself gives (value lines such as `x = np.array([...])`, a def's
  default `w=3`, `x = -2, y = 5`): not sent, but the reference needs them; the test checks that
  gradtrace read the same numbers.
- `canonical`: the reading written by hand in gradtrace's own language (README, "The expression
  language"); the test builds both and compares the graphs' structure (ops, options, constants,
  inputs; not node order, not intermediate names).
- `torch`: the reference, written from the math and not from gradtrace's reading: a Python
  expression of a function that takes the inputs as keyword arguments (float64 tensors, or int64
  for `labels`) and returns the output tensor; `torch`, `F` (torch.nn.functional) and `math` are
  in scope. Gradients are checked for every input that is not a label, with output gradient `seed`
  (ones by default; `text_seed` when the text gives it, as `output_gradients=dz`).
- `source`: where it comes from (a lecture-notes file and section, a course, a textbook).
- `notation`: latex | math | unicode | numpy | torch | tf | python | canonical.
- `expect_error`: the entry is known not to be read; the message gradtrace gives must contain
  this (the README lists these entries with their messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    id: str
    source: str
    notation: str
    text: str
    canonical: str
    torch: str
    values: dict[str, Any] = field(default_factory=dict)
    text_values: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    seed: Any = None
    text_seed: Any = None
    expect_error: str | None = None


@dataclass(frozen=True)
class Excluded:
    source: str
    text: str
    reason: str

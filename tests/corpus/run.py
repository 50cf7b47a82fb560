"""Read every corpus entry and compare it with its reference (used by tests/test_corpus.py and
scripts/corpus_report.py): `outcome(entry)` says whether gradtrace read it, and how it differs
from the hand-written reading and the PyTorch reference if it does."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradtrace import GradtraceError, trace
from gradtrace.analysis import compile_program
from gradtrace.settings import get_settings
from tests.corpus import MODULES
from tests.corpus.entry import Entry, Excluded
from tests.helpers import graph_key


def entries() -> Iterator[tuple[str, Entry]]:
    for name in MODULES:
        module = importlib.import_module(f"tests.corpus.{name}")
        for e in module.ENTRIES:
            yield name, e


def excluded() -> Iterator[tuple[str, Excluded]]:
    for name in MODULES:
        module = importlib.import_module(f"tests.corpus.{name}")
        for e in getattr(module, "EXCLUDED", []):
            yield name, e


@dataclass
class Outcome:
    read: bool
    message: str = ""  # gradtrace's error, when not read
    problems: tuple[str, ...] = ()  # how an accepted reading differs from the references


def _close(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


def _number(v: Any) -> Any:
    """A record's number back to a float ("NaN", "Infinity" are how JSON carries them)."""
    if isinstance(v, list):
        return [_number(x) for x in v]
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return v


def reference(e: Entry) -> tuple[Any, dict[str, Any]]:
    """The PyTorch float64 value and gradients, from the entry's reference written from the
    maths."""
    import torch
    import torch.nn.functional as F

    values = {**e.text_values, **e.values}
    fn = eval(e.torch, {"torch": torch, "F": F, "math": math})
    tensors = {k: torch.tensor(v, dtype=torch.int64) if k in e.labels
               else torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in values.items()}
    out = fn(**tensors)
    seed = e.seed if e.seed is not None else e.text_seed
    g = torch.ones_like(out) if seed is None else torch.tensor(seed, dtype=torch.float64)
    names = [k for k in tensors if k not in e.labels]
    found = torch.autograd.grad(out, [tensors[k] for k in names], g, allow_unused=True)
    grads = {k: gr.numpy() for k, gr in zip(names, found, strict=True) if gr is not None}
    return out.detach().numpy(), grads


def outcome(e: Entry) -> Outcome:
    try:
        r = trace(e.text, e.values, seed=e.seed)
    except GradtraceError as err:
        return Outcome(False, err.message)
    problems: list[str] = []
    if not e.canonical:
        return Outcome(True, "", ("read, but the entry says it cannot be",))
    value, grads = reference(e)
    if not _close(_number(r["value"]), value):
        problems.append(f"value {r['value']} != PyTorch {value.tolist()}")
    for k, want in grads.items():
        got = r["gradients"].get(k)
        if got is None:
            if np.any(want != 0):
                problems.append(f"no gradient for {k}")
        elif not _close(_number(got), want):
            problems.append(f"d/d{k} {got} != PyTorch {want.tolist()}")
    settings = get_settings()
    values = {**e.text_values, **e.values}
    _, read = compile_program(e.text, e.values, settings)
    for k, v in e.text_values.items():
        if k in read.inputs and not _close(read.defaults.get(k, e.values.get(k)), v):
            problems.append(f"the text's value of {k} read as {read.defaults.get(k)}")
    try:
        _, canonical = compile_program(e.canonical, values, settings)
        if graph_key(read) != graph_key(canonical):
            problems.append("the graph differs from the hand-written reading")
    except GradtraceError as err:
        problems.append(f"the hand-written reading does not read: {err.message}")
    return Outcome(True, "", tuple(problems))

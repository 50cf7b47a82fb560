"""The shared test vectors (tests/vectors/*.json), checked here against the Python copies of the
number format and the step model (render.py), and by frontend/tests/vectors.test.ts against the
browser's (format.ts, steps.ts, url-state.ts): one set of facts for both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gradtrace.errors import GradtraceError
from gradtrace.render import format_number, format_short, step_index, step_view

VECTORS = Path(__file__).with_name("vectors")
FORMAT = json.loads((VECTORS / "format.json").read_text(encoding="utf-8"))
STEPS = json.loads((VECTORS / "steps.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("v", FORMAT["number"], ids=lambda v: f"{v['x']}@{v['sig']}")
def test_format_number(v: dict[str, Any]) -> None:
    assert format_number(v["x"], v["sig"]) == v["text"]


@pytest.mark.parametrize("v", FORMAT["short"], ids=lambda v: json.dumps(v["t"]))
def test_format_short(v: dict[str, Any]) -> None:
    assert format_short(v["t"], v["max_elements"], v["sig"]) == v["text"]


def test_the_vectors_cover_the_edge_cases() -> None:
    xs = [v["x"] for v in FORMAT["number"]]
    assert {"Infinity", "-Infinity", "NaN"} <= set(xs)
    assert any(isinstance(x, float) and x == 0 and str(x) == "-0.0" for x in xs)
    assert any("\u2212" in v["text"] for v in FORMAT["number"])
    assert any("error" in s for r in STEPS["records"] for s in r["specs"])
    assert {r["record"]["mode"] for r in STEPS["records"]} == {"reverse", "forward"}


@pytest.mark.parametrize("case", STEPS["records"], ids=lambda c: f"{c['record']['expr']} "
                         f"{c['record']['mode']}")
def test_steps(case: dict[str, Any]) -> None:
    rec = case["record"]
    for spec in case["specs"]:
        if "error" in spec:
            with pytest.raises(GradtraceError) as err:
                step_index(rec, spec["spec"])
            assert err.value.message == spec["error"], spec
        else:
            assert step_index(rec, spec["spec"]) == spec["index"], spec
    assert len(case["states"]) == len(rec["forward"]) + len(rec["backward"])
    for want in case["states"]:
        v = step_view(rec, want["index"])
        got = {"index": v.index, "phase": v.phase, "k": v.k, "n": v.n, "label": v.label,
               "current": v.current, "valued": sorted(v.valued), "graded": sorted(v.graded),
               "edge_grads": sorted(v.edge_grads), "arriving": sorted(v.arriving),
               "sending": sorted(v.sending), "tangented": sorted(v.tangented),
               "edge_tangents": sorted(v.edge_tangents), "feeding": sorted(v.feeding)}
        assert got == want

"""The reading rules (tests/vectors/reading_rules.json, README "Pasting from a lecture"): each
input in a surface notation reads as its canonical program, or fails with its message at its
characters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gradtrace import GradtraceError
from gradtrace.analysis import compile_program
from gradtrace.parser import parse
from gradtrace.settings import get_settings
from tests.helpers import graph_key

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "reading_rules.json").read_text())
READINGS = [v for v in VECTORS if "canonical" in v]
ERRORS = [v for v in VECTORS if "error" in v]


@pytest.mark.parametrize("v", READINGS, ids=[f"{v['rule']}:{v['input']!r}" for v in READINGS])
def test_reads_as_its_canonical_program(v: dict[str, Any]) -> None:
    values = v.get("values", {})
    settings = get_settings()
    _, read = compile_program(v["input"], values, settings)
    _, canonical = compile_program(v["canonical"], values, settings)
    assert graph_key(read) == graph_key(canonical), v.get("note", "")


@pytest.mark.parametrize("v", ERRORS, ids=[v["input"] for v in ERRORS])
def test_unread_input_says_why_at_its_characters(v: dict[str, Any]) -> None:
    with pytest.raises(GradtraceError) as err:
        compile_program(v["input"], v.get("values", {}), get_settings())
    assert v["error"] in err.value.message
    assert [err.value.start, err.value.end] == v["span"]


def test_skipped_lines_are_listed_with_why() -> None:
    src = "import numpy as np\nprint(x)\nz = np.exp(x)\nz.backward()"
    program = parse(src)
    reasons = {src[s.start:s.end]: s.reason for s in program.skipped}
    assert set(reasons) == {"import numpy as np", "print(x)", "z.backward()"}
    assert "prints" in reasons["print(x)"]
    assert program.output is not None and program.output.text == "z"


def test_spans_point_into_the_typed_text() -> None:
    src = r"\frac{1}{y+e^{-x}}"
    (stmt,) = parse(src).statements
    assert (stmt.expr.start, stmt.expr.end) == (0, len(src))
    with pytest.raises(GradtraceError) as err:
        compile_program(r"\frac{1}{y+\foo{x}}", {}, get_settings())
    assert (err.value.start, err.value.end) == (11, 15)

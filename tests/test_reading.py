"""The reading rules (tests/vectors/reading_rules.json, README "Pasting from a lecture"): each
input in a surface notation reads as its canonical program, or fails with its message at its
characters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gradtrace import GradtraceError, trace
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


def test_a_header_declares_the_inputs_in_its_order() -> None:
    r = trace(r"f(x, y) = \dfrac{1}{y+e^{-x}}", {"x": 0, "y": 1})
    assert [i["name"] for i in r["reading"]["inputs"]] == ["x", "y"]
    assert r["gradients"] == {"x": 0.25, "y": -0.25}  # the notes' df/dy = -1/4 at (0, 1)


def test_value_lines_give_the_inputs_their_values_and_the_request_wins() -> None:
    src = "x = np.array([[1., 2.]])\nW = torch.tensor([[1, 0], [0, 1]], dtype=torch.float64)\n" \
          "h = x @ W\nL = h.sum()"
    r = trace(src)
    assert {i["name"]: i["value"] for i in r["reading"]["inputs"]} == {
        "x": [[1.0, 2.0]], "W": [[1.0, 0.0], [0.0, 1.0]]}
    assert r["value"] == 3.0
    assert trace(src, {"x": [[3, 4]]})["value"] == 7.0


def test_the_text_gives_the_output_and_its_output_gradient() -> None:
    src = ("x = tf.constant([3.0, 4.0])\ndz = tf.constant([1.0, 2.0])\n"
           "with tf.GradientTape() as g:\n    g.watch(x)\n    z = x * x\n"
           "dx = g.gradient(z, x, output_gradients=dz)\nprint(dx)")
    r = trace(src)
    assert r["seed"] == [1.0, 2.0] and r["gradients"]["x"] == [6.0, 16.0]
    assert r["reading"]["seed"] == [1.0, 2.0]
    assert [src[s["start"]:s["end"]] for s in r["reading"]["skipped"]] == [
        "with tf.GradientTape() as g:", "g.watch(x)",
        "dx = g.gradient(z, x, output_gradients=dz)", "print(dx)"]


def test_what_the_output_does_not_use_and_numpy_conventions_are_warned_about() -> None:
    r = trace("h = x * 2\nunused = x + 1\nq = np.max(p, 0)\nL = h + sum(q)",
              {"x": 1.0, "p": [[1, -2], [3, 4]]})
    kinds = {w["type"]: w["message"] for w in r["warnings"]}
    assert "'unused' is computed but the output does not use it" in kinds["unused_name"]
    assert "over axis 0" in kinds["numpy_convention"]
    assert r["value"] == 9.0  # 2 + max over axis 0: [3, 4]


def test_the_canonical_reading_is_shown_when_it_differs() -> None:
    assert trace("e = (a+b)(b+1)", {"a": 2, "b": 1})["reading"]["canonical"] == \
        "e = (a + b) * (b + 1)"
    assert trace("q = x + y; f = q * z  # the circuit", {"x": 1, "y": 2, "z": 3})["reading"][
        "differs"] is False

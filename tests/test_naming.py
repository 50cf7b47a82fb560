"""One name per node (backend/gradtrace/naming.py): what the record's `display` says, which the
graph, the explanation, the inspector and the pictures all show."""

from __future__ import annotations

from typing import Any

from gradtrace import trace
from gradtrace.naming import AUTO_LETTERS, auto_name


def names(expr: str, values: dict[str, Any] | None = None, **kw: Any) -> list[tuple[str, str]]:
    t = trace(expr, values or {}, **kw)
    return [(n["label"], n["display"]) for n in t["nodes"]]


def test_unnamed_ops_get_letters_and_the_output_f() -> None:
    assert names("(x + y) * z") == [("x", "x"), ("y", "y"), ("+", "a"), ("z", "z"), ("×", "f")]
    # The same in forward mode: one name per node, whatever the pass.
    assert names("(x + y) * z", mode="forward", wrt="x")[2:] == [("+", "a"), ("z", "z"),
                                                                ("×", "f")]


def test_the_users_names_win_and_letters_skip_them() -> None:
    assert names("q = x + y; f = q * z") == [
        ("x", "x"), ("y", "y"), ("q", "q"), ("z", "z"), ("f", "f")]
    # `a` is an input here, `b` a name: the unnamed nodes take c and g.
    got = names("b = exp(a); b * (a + 1) + a / 2")
    shown = [d for _, d in got]
    assert shown[:2] == ["a", "b"] and "c" in shown and "g" in shown
    assert len(set(shown) - {"1", "2"}) == len([d for d in shown if d not in ("1", "2")])


def test_a_name_given_again_is_primed_and_an_indexing_is_written_out() -> None:
    expr = "y = torch.zeros(2)\ny[0] = x[0] + 2*x[1]\ny[1] = x[1] + 2*x[2]\nL = y.sum()"
    shown = [d for _, d in names(expr, {"x": [1.0, 2.0, 3.0]})]
    assert shown.count("y") == 1 and "y′" in shown and "y″" in shown
    assert "x[0]" in shown and "x[2]" in shown and shown[-1] == "L"


def test_formulas_are_written_in_the_shown_names() -> None:
    t = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    edge = next(e for e in t["edges"] if e["target"] == t["output"] and e["arg"] == 0)
    assert edge["local_formula"] == "\\frac{\\partial\\,(a\\,z)}{\\partial a} = z"
    tex = {n["display"]: n["display_tex"] for n in t["nodes"]}
    assert tex == {"x": "x", "y": "y", "a": "a", "z": "z", "f": "f"}


def test_parts_of_an_opened_gate_are_named_after_the_rest() -> None:
    closed = trace("s = sigmoid(x) * w + 1")
    opened = trace("s = sigmoid(x) * w + 1", expand=["g1"])
    before = {n["id"]: n["display"] for n in closed["nodes"]}
    after = {n["id"]: n["display"] for n in opened["nodes"] if n["in_gate"] is None}
    # Opening the gate renames nothing outside it.
    assert {k: v for k, v in after.items() if k in before} == \
        {k: v for k, v in before.items() if k in after}


def test_letters_run_on_with_subscripts() -> None:
    n = len(AUTO_LETTERS)
    assert [auto_name(k).text for k in (0, 1, n - 1, n, n + 1, 2 * n)] == [
        "a", "b", "w", "a₁", "b₁", "a₂"]
    assert auto_name(n).tex == "a_{1}"


def test_letters_never_look_like_a_users_name_or_function() -> None:
    # The user's a_1 is a_{1} in formulas, as the letter a₁ would be: the letters skip it.
    expr = "a_1 = x + 1; " + " + ".join(f"x * {k}" for k in range(2, 22))
    tex = [n["display_tex"] for n in trace(expr)["nodes"]]
    assert tex.count("a_{1}") == 1
    # A program's own def f: the output is not called f.
    t = trace("def f(u):\n    return u * 2\nf(x) + 1")
    shown = [n["display"] for n in t["nodes"]]
    assert "f" not in shown and shown[-1] == "b"

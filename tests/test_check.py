"""The numeric gradient check (check.py, `check=True`): its finite differences against our own
independent ones (a plain evaluator of the text, float64, a fixed step), its analytic side against
the seed examples of the lecture notes, kinks, limits, non-finite values, forward mode, and that
the check leaves the rest of the record unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradtrace import decode, trace
from gradtrace.check import TOLERANCE
from gradtrace.engine import build_graph, forward, parse_value
from gradtrace.parser import parse
from gradtrace.settings import Settings, get_settings

from .conftest import SEEDS


def evaluate(expr: str, values: dict[str, Any]) -> np.ndarray:
    """f(values), by the engine's forward alone (no backward, no check code)."""
    s = get_settings()
    graph = build_graph(parse(expr), values, s)
    arrays = {n: parse_value(n, values[n], (0, 0), s) for n in graph.inputs}
    return forward(graph, arrays, s)[graph.output]


def my_fd(expr: str, values: dict[str, Any], seed: Any, wrt: list[str], h: float = 1e-5
          ) -> dict[str, np.ndarray]:
    """Independent central differences of <seed, f> with a fixed step, for the inputs `wrt`
    (labels are whole numbers: no step moves them)."""
    base = {k: np.asarray(values[k], dtype=np.float64) for k in wrt}
    out0 = evaluate(expr, values)
    w = np.ones(out0.shape) if seed is None else np.broadcast_to(np.asarray(seed, float),
                                                                 out0.shape)
    grads: dict[str, np.ndarray] = {}
    for name, x in base.items():
        g = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            vals = []
            for sign in (1, -1):
                moved = x.copy()
                moved[idx] += sign * h
                v = {**values, name: moved.tolist()}
                vals.append(float(np.sum(w * evaluate(expr, v))))
            g[idx] = (vals[0] - vals[1]) / (2 * h)
        grads[name] = g
    return grads


SEED_IDS = [s["key"] for s in SEEDS]


@pytest.mark.parametrize("ex", SEEDS, ids=SEED_IDS)
def test_seed_examples_pass_and_numbers_match(ex: dict[str, Any]) -> None:
    rec = trace(ex["expr"], ex["values"], ex.get("seed"), check=True)
    chk = rec["check"]
    mine = my_fd(ex["expr"], ex["values"], ex.get("seed"), list(ex["gradients"]))
    for name, expected in ex["gradients"].items():
        entry = chk["inputs"][name]
        # The analytic side is the lecture notes' number, the numeric side our own difference.
        np.testing.assert_allclose(decode(entry["analytic"]), np.asarray(expected, float),
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(decode(entry["numeric"]), mine[name], rtol=1e-6, atol=1e-7)
        if entry["verdict"] == "kink":
            assert entry["note"] and "kink" in entry["note"]
        else:
            assert entry["verdict"] == "pass", (name, entry)
            assert entry["rel_error"] <= TOLERANCE
    # Labels (inputs without a gradient) are whole numbers: the check does not move them.
    assert chk["evaluations"] == 2 * sum(np.asarray(ex["values"][n]).size
                                         for n in ex["gradients"])


def test_check_leaves_the_record_unchanged() -> None:
    ex = SEEDS[0]
    plain = trace(ex["expr"], ex["values"])
    checked = trace(ex["expr"], ex["values"], check=True)
    assert set(checked) - set(plain) == {"check"}
    assert {k: v for k, v in checked.items() if k != "check"} == dict(plain)
    assert "check" not in plain


def test_wrong_derivative_would_fail() -> None:
    """The verdict can fail: a numeric side replaced by a different function's differences."""
    from gradtrace.check import _error, _verdict

    rel, _ = _error(np.array([2.0]), np.array([2.001]), np.array([1e-15]))
    assert rel > TOLERANCE
    assert _verdict(rel, []) == "fail"
    assert _verdict(rel, [3]) == "kink"


def test_noise_level_difference_passes() -> None:
    from gradtrace.check import _error

    rel, _ = _error(np.array([0.0]), np.array([1e-13]), np.array([1e-11]))
    assert rel <= TOLERANCE


@pytest.mark.parametrize(("expr", "values", "name", "verdict"), [
    # relu'(0) = 0 but the central difference is (3h - 0) / 2h = 1.5: a disagreement, named.
    ("relu(x) * 3", {"x": 0.0}, "x", "kink"),
    # abs'(0) = 0 and (h - h) / 2h = 0; a tie of max splits 1/2 and the difference sees 1/2:
    # they agree, and the note still says that the step crossed a kink.
    ("abs(x) + y", {"x": 0.0, "y": 1.0}, "x", "pass"),
    ("max(a, b)", {"a": 2.0, "b": 2.0}, "a", "pass"),
])
def test_kinks_are_named(expr: str, values: dict[str, Any], name: str, verdict: str) -> None:
    chk = trace(expr, values, check=True)["check"]
    entry = chk["inputs"][name]
    assert entry["verdict"] == verdict
    assert entry["passed"] is (verdict == "pass")
    assert "kink" in entry["note"] and entry["note"] in chk["notes"]
    assert chk["passed"] is (verdict == "pass")


def test_relu_kink_numbers() -> None:
    entry = trace("relu(x) * 3", {"x": 0.0}, check=True)["check"]["inputs"]["x"]
    assert decode(entry["analytic"]) == 0.0  # relu'(0) = 0, as PyTorch
    assert abs(float(decode(entry["numeric"])) - 1.5) < 1e-9  # (3 - 0) / 2


def test_away_from_a_kink_no_note() -> None:
    entry = trace("relu(x) * 3", {"x": 0.5}, check=True)["check"]["inputs"]["x"]
    assert entry["verdict"] == "pass" and entry["note"] is None


def test_tensor_inputs_random_function() -> None:
    rng = np.random.default_rng(3)
    values = {"W": rng.normal(size=(3, 2)).tolist(), "x": rng.normal(size=(2,)).tolist()}
    expr = "h = tanh(W @ x); sum(h * h) + mean(exp(x))"
    seed = None
    chk = trace(expr, values, seed, check=True)["check"]
    mine = my_fd(expr, values, seed, list(values))
    for name in values:
        np.testing.assert_allclose(decode(chk["inputs"][name]["numeric"]), mine[name],
                                   rtol=1e-6, atol=1e-8)
        assert chk["inputs"][name]["verdict"] == "pass"
    assert chk["passed"] is True


def test_vector_output_with_seed() -> None:
    values = {"x": [0.3, -1.2, 2.0]}
    seed = [1.0, -2.0, 0.5]
    chk = trace("sigmoid(x) * x", values, seed, check=True)["check"]
    mine = my_fd("sigmoid(x) * x", values, seed, list(values))
    np.testing.assert_allclose(decode(chk["inputs"]["x"]["numeric"]), mine["x"], rtol=1e-6)
    assert chk["inputs"]["x"]["verdict"] == "pass"


def test_over_its_limit_the_check_says_why_inside_the_record() -> None:
    """Past its own limit the check is missing, with a clear error pointing at the input that
    makes it big; the trace itself is still answered."""
    s = Settings(max_check_evaluations=10)
    expr = "sum(x) * y"
    rec = trace(expr, {"x": [1.0] * 10, "y": 2.0}, settings=s, check=True)
    err = rec["check"]["error"]
    assert err["type"] == "limit"
    assert expr[err["start"]:err["end"]] == "x"
    assert "22" in err["message"]  # 2 * (10 + 1) passes
    assert rec["gradients"]["y"] == 10.0
    # Within the limit the same request runs.
    assert trace(expr, {"x": [1.0] * 4, "y": 2.0}, settings=s, check=True)["check"]["passed"]


def test_work_limit() -> None:
    s = Settings(max_check_work=100)
    rec = trace("sum(x)", {"x": [1.0] * 20}, settings=s, check=True)
    assert rec["check"]["error"]["type"] == "limit"


def test_over_its_limit_the_api_answers_200_with_the_error(client: Any) -> None:
    from gradtrace.settings import get_settings

    n = get_settings().max_check_evaluations  # 2 passes per number: n numbers are too many
    r = client.post("/api/trace", json={"expr": "sum(x)", "values": {"x": [1.0] * n},
                                        "check": True})
    assert r.status_code == 200
    body = r.json()
    assert body["check"]["error"]["type"] == "limit" and body["value"] == float(n)


@pytest.mark.parametrize(("expr", "values"), [
    ("log(x)", {"x": 0.0}),
    ("exp(x)", {"x": 800.0}),
    ("x * y", {"x": "NaN", "y": 1.0}),
    ("sqrt(x)", {"x": 0.0}),
])
def test_nonfinite_no_crash(expr: str, values: dict[str, Any]) -> None:
    chk = trace(expr, values, check=True)["check"]
    entry = chk["inputs"]["x"]
    assert entry["verdict"] in ("nonfinite", "fail", "pass")
    if entry["verdict"] == "nonfinite":
        assert entry["note"] and not entry["passed"]


def test_forward_mode_check() -> None:
    values = {"x": [0.5, -1.0], "y": 2.0}
    t = [1.0, 3.0]
    expr = "sin(x) * y + x^2"
    rec = trace(expr, values, mode="forward", wrt="x", tangent=t, check=True)
    chk = rec["check"]
    assert chk["mode"] == "forward" and chk["evaluations"] == 2
    entry = chk["inputs"]["x"]
    np.testing.assert_allclose(decode(entry["analytic"]), decode(rec["derivative"]))
    # Our own difference along the tangent.
    h = 1e-6
    xp = (np.array(values["x"]) + h * np.array(t)).tolist()
    xm = (np.array(values["x"]) - h * np.array(t)).tolist()
    mine = (evaluate(expr, {**values, "x": xp}) - evaluate(expr, {**values, "x": xm})) / (2 * h)
    np.testing.assert_allclose(decode(entry["numeric"]), mine, rtol=1e-6)
    assert entry["verdict"] == "pass"
    plain = trace(expr, values, mode="forward", wrt="x", tangent=t)
    assert {k: v for k, v in rec.items() if k != "check"} == dict(plain)


@pytest.mark.parametrize("ex", SEEDS, ids=SEED_IDS)
def test_forward_mode_check_on_seeds(ex: dict[str, Any]) -> None:
    for name in ex["gradients"]:  # not labels: nothing is differentiated along them
        chk = trace(ex["expr"], ex["values"], mode="forward", wrt=name, check=True)["check"]
        assert chk["inputs"][name]["verdict"] in ("pass", "kink"), (name, chk)

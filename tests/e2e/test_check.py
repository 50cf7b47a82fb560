"""The numeric gradient check and the Jacobian view in the browser (issue 6, items 3 and 4): the
"Check gradients" toggle (by keyboard) on a preset, the relative errors read from the table
against our own central differences, the check in the URL, a kink marked as such, and the
explicit Jacobian beside the VJP in the explanation of a tensor edge."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

from gradtrace import trace

from .test_app import numbers_in, open_app, wait_trace

Page = Any  # playwright.sync_api.Page


def rows(page: Page) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for r in page.get_by_test_id("check-row").all():
        cells = r.locator("td")
        out[r.get_attribute("data-name")] = {
            "verdict": r.get_attribute("data-verdict"),
            "analytic": cells.nth(0).get_attribute("data-value"),
            "numeric": cells.nth(1).get_attribute("data-value"),
            "rel_error": cells.nth(2).get_attribute("data-value"),
            "rel_text": cells.nth(2).inner_text(),
        }
    return out


def test_check_on_a_preset_reads_the_relative_errors(app: Page) -> None:
    open_app(app)
    app.get_by_test_id("preset-sigmoid-neuron").click()
    preset_expr = "f = 1 / (1 + exp(-(w0 * x0 + w1 * x1 + w2)))"
    wait_trace(app, preset_expr)
    toggle = app.get_by_test_id("check-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.focus()
    app.keyboard.press("Enter")  # keyboard-usable
    assert toggle.get_attribute("aria-pressed") == "true"
    app.get_by_test_id("check-table").wait_for()
    got = rows(app)
    values = app.evaluate("() => window.__gradtrace.trace.gradients")
    assert set(got) == set(values) == {"w0", "x0", "w1", "x1", "w2"}
    # Our own central differences of f at the preset's values, independent of check.py.
    inputs = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}

    def f(v: dict[str, float]) -> float:
        return 1 / (1 + np.exp(-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"])))

    for name, r in got.items():
        assert r["verdict"] == "pass", (name, r)
        rel = float(r["rel_error"])
        assert 0 <= rel <= 1e-5
        assert re.fullmatch(r"0|[0-9.]+(e-\d+)?", r["rel_text"].replace("\u2212", "-")), r
        h = 1e-6
        fd = (f({**inputs, name: inputs[name] + h}) - f({**inputs, name: inputs[name] - h})) / 2 / h
        assert abs(float(r["numeric"]) - fd) < 1e-7
        assert abs(float(r["analytic"]) - values[name]) < 1e-12
    assert app.get_by_test_id("check-summary").inner_text().startswith("✓")
    app.wait_for_function("() => location.search.includes('check=1')")
    # Off again: the table goes, and so does check in the URL.
    toggle.click()
    assert app.get_by_test_id("check-table").count() == 0
    app.wait_for_function("() => !location.search.includes('check=1')")


def test_check_from_the_url_marks_a_kink(app: Page) -> None:
    app.goto("/?expr=relu(x)*y%2Bz&x=0&y=5&z=-4&check=1")
    app.get_by_test_id("check-table").wait_for()
    got = rows(app)
    assert got["x"]["verdict"] == "kink"
    assert float(got["x"]["analytic"]) == 0.0 and abs(float(got["x"]["numeric"]) - 2.5) < 1e-9
    assert got["y"]["verdict"] == "pass" and got["z"]["verdict"] == "pass"
    assert "kink" in app.get_by_test_id("check-panel").inner_text()
    assert parse_qs(urlparse(app.url).query)["check"] == ["1"]


def test_jacobian_matrix_is_shown_beside_the_vjp(app: Page) -> None:
    values = {"W": [[1, 2], [3, 4], [5, 6]], "x": [1, -1]}
    app.goto("/?expr=z%20%3D%20W%20%40%20x%3B%20sum(z)&W=[[1,2],[3,4],[5,6]]&x=[1,-1]&step=b2")
    explain = app.get_by_test_id("explain")
    explain.locator(".katex").first.wait_for()
    # The dense Jacobian is folded under the step's VJP rules (dW = dz x^T): open it.
    fold = explain.locator("details.explain-fold").first
    summary = fold.locator("summary")
    assert "The dense Jacobian ∂z/∂W: 18 entries, never formed" in summary.inner_text()
    summary.click()
    text = fold.inner_text()
    assert "never forms it" in text and "4.3 billion" in text
    # The matrix as drawn: KaTeX lays a matrix out column by column.
    matrix = fold.locator(".math-line.jacobian .katex-html .mtable").first
    drawn = numbers_in(matrix.inner_text())
    rec = trace("z = W @ x; sum(z)", values)
    jac = next(e["jacobian"] for e in rec["edges"] if e["target"] == "n2" and e["arg"] == 0)
    assert np.asarray(jac).shape == (3, 6)
    assert drawn == np.asarray(jac).T.reshape(-1).tolist()
    # d z_i / d W_jk = [i == j] x_k: row 1 is (0, 0, 1, -1, 0, 0).
    assert jac[1] == [0.0, 0.0, 1.0, -1.0, 0.0, 0.0]


def test_the_panels_say_why_they_wait_for_nothing(app: Page) -> None:
    """Turned on while the expression is broken or empty, the check and Hessian panels say what
    to do instead of waiting for an answer that is not coming."""
    open_app(app)
    box = app.get_by_test_id("expr-input")
    box.fill("(x + y) *")
    app.get_by_test_id("error").wait_for(state="visible")
    app.get_by_test_id("hessian-toggle").click()
    panel = app.get_by_test_id("hessian-panel")
    panel.get_by_text("nothing to compute until the expression is fixed").wait_for()
    box.fill("")
    app.get_by_test_id("check-toggle").click()
    app.get_by_test_id("check-panel").get_by_text(
        "type an expression to check its gradients").wait_for()
    box.fill("(x + y) * z")
    app.get_by_test_id("check-table").wait_for()
    app.get_by_test_id("hessian-table").wait_for()

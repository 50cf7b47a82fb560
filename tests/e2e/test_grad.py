"""grad(f, x) and the Hessian view in the browser (issue 6, item 2): a grad expression typed in is
drawn as its gradient graph and stepped like any other; the Hessian toggle (by keyboard) shows the
matrix, read against finite differences of our own; a Hessian that cannot be given (a vector
output) says why while the trace stays on screen; the toggle lives in the URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from .test_app import numbers_in, open_app, wait_trace

Page = Any  # playwright.sync_api.Page


def hessian_cells(page: Page) -> dict[tuple[int, int], float]:
    return {(int(c.get_attribute("data-row")), int(c.get_attribute("data-col"))):
            float(c.get_attribute("data-value"))
            for c in page.get_by_test_id("hessian-cell").all()}


def test_grad_of_grad_is_drawn_and_the_hessian_read(app: Page) -> None:
    expr = "d = grad(x^3 * y, x); grad(d, x)"
    open_app(app, expr, {"x": 2, "y": 0.5})
    wait_trace(app, expr)
    # d = 3 x^2 y, and its derivative 6 x y = 6 at (2, 0.5): on the page, and as a node value.
    assert numbers_in(app.get_by_test_id("output-value").inner_text()) == [6.0]
    named = app.evaluate("() => window.__gradtrace.trace.nodes.find(n => n.name === 'd').value")
    assert named == 6.0  # 3 * 2^2 * 0.5
    toggle = app.get_by_test_id("hessian-toggle")
    toggle.focus()
    app.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    app.get_by_test_id("hessian-table").wait_for()
    assert "hessian=1" in app.url

    # Our own central differences of the output 6 x y (its formula, not the server's numbers).
    def f(x: float, y: float) -> float:
        return 6 * x * y

    h = 1e-4
    x, y = 2.0, 0.5
    fd = {
        (0, 0): (f(x + h, y) - 2 * f(x, y) + f(x - h, y)) / h**2,
        (0, 1): (f(x + h, y + h) - f(x + h, y - h) - f(x - h, y + h) + f(x - h, y - h))
        / (4 * h * h),
        (1, 1): (f(x, y + h) - 2 * f(x, y) + f(x, y - h)) / h**2,
    }
    fd[(1, 0)] = fd[(0, 1)]
    got = hessian_cells(app)
    assert set(got) == set(fd)
    for k, v in fd.items():
        assert abs(got[k] - v) < 1e-5, (k, got[k], v)
    assert "Symmetric" in app.get_by_test_id("hessian-note").inner_text()


def test_a_hessian_that_cannot_be_given_says_why_and_keeps_the_trace(app: Page) -> None:
    expr = "v * x"
    app.goto(f"/?expr={expr.replace(' ', '%20').replace('*', '%2A')}&x=2&v=[1,2]&hessian=1")
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    wait_trace(app, expr)
    problem = app.get_by_test_id("hessian-error")
    problem.wait_for()
    assert "scalar output" in problem.inner_text()
    assert app.get_by_test_id("hessian-toggle").get_attribute("aria-pressed") == "true"
    assert numbers_in(app.get_by_test_id("output-value").inner_text()) == [2.0, 4.0]


def test_grad_errors_point_at_the_text(app: Page) -> None:
    app.goto("/?expr=grad(v%20%2A%202%2C%20v)&v=[1,2]")
    app.wait_for_function("() => document.querySelector('[data-testid=error]').textContent"
                          ".includes('scalar')")
    # The error underlines the non-scalar argument, v * 2.
    marked = app.evaluate("() => [...document.querySelectorAll('.expr-input mark, mark')]"
                          ".map(m => m.textContent).join('')")
    assert marked == "v * 2", marked
    query = parse_qs(urlparse(app.url).query)
    assert query["expr"] == ["grad(v * 2, v)"]

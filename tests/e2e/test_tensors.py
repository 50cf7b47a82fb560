"""Tensors typed the first time, in Debian's chromium: from an empty page, `h = relu(X @ W1);
L = sum(h)` gets value editors of the shapes the ops need, filled with random numbers (the
draw kept in the URL as `rng`, the numbers out of it); X pasted as JSON, W1 drawn anew, and at
the end dW1 is read in the node panel and the explanation and checked against PyTorch. Pasted
NumPy, a bad paste's error at its characters, the output gradient's editor, typed values kept
across edits and reloads, and a link too long to open. Marked `slow` with every browser test
(conftest.py)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from ..helpers import require_torch
from .conftest import screenshot
from .test_app import close, label, numbers_in, wait_trace
from .test_reading import open_empty

Page = Any  # playwright.sync_api.Page

EXPR = "h = relu(X @ W1); L = sum(h)"
X = [[0.9, 0.2, 0.7]]

# Waits until an input node's value (as JSON) is (op "===") or is no longer (op "!==") the arg.
NODE_VALUE = ("v => JSON.stringify(window.__gradtrace.trace.nodes.find(n => n.name === '{name}')"
              ".value) {op} v")


def compact(x: Any) -> str:
    """`x` as JavaScript's JSON.stringify writes it."""
    return json.dumps(x, separators=(",", ":"))


def params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def node_value(page: Page, name: str) -> Any:
    """The value of input `name` in the trace on show."""
    return page.evaluate(
        "n => window.__gradtrace.trace.nodes.find(x => x.kind === 'input' && x.name === n).value",
        name,
    )


def paste(page: Page, target: Any, text: str) -> None:
    """Paste `text` into `target` as a person does: through the clipboard, with Ctrl+V."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("t => navigator.clipboard.writeText(t)", text)
    target.focus()
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+v")


def cells(page: Page, name: str, shape: tuple[int, int]) -> list[list[float]]:
    """The numbers of a matrix editor's grid."""
    return [
        [float(page.get_by_test_id(f"value-{name}-{i}-{j}").input_value()) for j in range(shape[1])]
        for i in range(shape[0])
    ]


def test_tensor_flow_from_an_empty_page(app: Page, screenshots: Any) -> None:
    torch = require_torch()
    open_empty(app)
    app.get_by_test_id("expr-input").fill(EXPR)
    wait_trace(app, EXPR)
    # Works the first time: both inputs are matrices the product can take, drawn at random,
    # and said so; their numbers are not in the URL (draw 0 is the default: no rng either).
    assert app.get_by_test_id("error").is_hidden()
    for name in ("X", "W1"):
        assert app.get_by_test_id(f"source-{name}").inner_text() == "random numbers, draw 0"
    x_shape = [int(d) for d in app.get_by_test_id("shape-X").input_value().split("×")]
    w_shape = [int(d) for d in app.get_by_test_id("shape-W1").input_value().split("×")]
    assert len(x_shape) == 2 and len(w_shape) == 2 and x_shape[1] == w_shape[0]
    assert not {"X", "W1", "rng"} & params(app).keys()

    # X pasted into its value box: typed, in the URL; W1 follows X's shape and stays drawn.
    paste(app, app.get_by_test_id("value-X-text"), json.dumps(X))
    app.wait_for_function(NODE_VALUE.format(name="X", op="==="), arg=compact(X))
    assert app.get_by_test_id("source-X").inner_text() == "typed"
    assert app.get_by_test_id("shape-X").input_value() == "1×3"
    app.wait_for_function("() => /[?&]X=/.test(location.search)")
    assert json.loads(params(app)["X"][0]) == X
    assert app.get_by_test_id("source-W1").inner_text() == "random numbers, draw 0"
    assert app.get_by_test_id("shape-W1").input_value().startswith("3×")

    # W1: another draw. The draw is in the URL, W1's numbers are not.
    before = node_value(app, "W1")
    app.get_by_test_id("fill-random-W1").click()
    app.wait_for_function("() => /[?&]rng=1(&|$)/.test(location.search)")
    app.wait_for_function(NODE_VALUE.format(name="W1", op="!=="), arg=compact(before))
    assert app.get_by_test_id("source-W1").inner_text() == "random numbers, draw 1"
    assert "W1" not in params(app)
    w1 = node_value(app, "W1")
    rows, cols = len(w1), len(w1[0])
    # The editor shows the numbers drawn (two decimals: exact).
    assert cells(app, "W1", (rows, cols)) == w1

    # To the end, then W1's gradient: in the node panel and in the explanation of its step.
    app.get_by_test_id("step-last").click()
    m = re.fullmatch(r"backward (\d+)/(\d+)", label(app))
    assert m and m.group(1) == m.group(2), label(app)
    Xt = torch.tensor(X, dtype=torch.float64)
    W1t = torch.tensor(w1, dtype=torch.float64, requires_grad=True)
    torch.relu(Xt @ W1t).sum().backward()
    assert W1t.grad is not None
    want = W1t.grad.tolist()
    # By hand: dW1 = X^T @ relu'(X @ W1).
    assert want == (Xt.T @ ((Xt @ W1t) > 0).double()).tolist()
    w1_node = app.locator("[data-node-id][data-kind=input][data-name=W1]")
    got = json.loads(w1_node.get_attribute("data-grad") or "null")
    assert close_all(got, want, 1e-12), (got, want)
    app.locator("[data-node-id][data-kind=input][data-name=W1]").click()
    shown = numbers_in(app.get_by_test_id("inspector").locator(".is-grad").inner_text())
    assert len(shown) >= rows * cols
    pairs = zip(shown[-rows * cols:], flat(want), strict=True)
    assert all(close(a, b, 3) for a, b in pairs), (shown, want)
    # The explanation of W1's step (stepping back from the end to it) shows its numbers.
    for _ in range(20):
        if re.search(r"\bW1\b", app.get_by_test_id("explain").inner_text().split("\n")[0]):
            break
        app.get_by_test_id("step-prev").click()
    explain = app.get_by_test_id("explain").inner_text()
    assert re.search(r"\bW1\b", explain.split("\n")[0]), explain
    said = numbers_in(explain)
    for w in flat(want):
        assert any(close(s, w, 3) for s in said), (w, explain)
    screenshot(app, screenshots / "tensors-first-time.png",
               [app.get_by_test_id("source-X"), app.get_by_test_id("source-W1"),
                app.get_by_test_id("value-X-text")])


def flat(x: Any) -> list[float]:
    if isinstance(x, list):
        return [y for v in x for y in flat(v)]
    return [float(x)]


def close_all(a: Any, b: Any, tol: float) -> bool:
    fa, fb = flat(a), flat(b)
    return len(fa) == len(fb) and all(abs(p - q) <= tol for p, q in zip(fa, fb, strict=True))


def test_pasted_numpy_and_a_bad_paste(app: Page, screenshots: Any) -> None:
    open_empty(app)
    app.get_by_test_id("expr-input").fill("s = sum(A * 2)")
    wait_trace(app, "s = sum(A * 2)")
    # NumPy, pasted into one cell of the grid: the whole value, of its own shape.
    first = app.locator("[data-name=A] .grid-cell").first
    paste(app, first, "np.array([[1, 2], [3, 4]])")
    app.wait_for_function("() => window.__gradtrace.trace.value === 20")
    assert app.get_by_test_id("shape-A").input_value() == "2×2"
    assert cells(app, "A", (2, 2)) == [[1, 2], [3, 4]]
    assert app.get_by_test_id("source-A").inner_text() == "typed"
    # PyTorch's printout into the text box.
    paste(app, app.get_by_test_id("value-A-text"),
          "tensor([[1.0000, 2.0000, 3.0000]], dtype=torch.float64, requires_grad=True)")
    app.wait_for_function("() => window.__gradtrace.trace.value === 12")
    # A ragged paste: the error says what is wrong and marks the characters; the value stays.
    bad = "[[1, 2, 3], [4, 5]]"
    box = app.get_by_test_id("value-A-text")
    paste(app, box, bad)
    error = app.get_by_test_id("value-A-error")
    error.wait_for()
    assert "this row has 2 numbers, but the first has 3" in error.inner_text()
    assert app.get_by_test_id("value-A-error-mark").inner_text() == "[4, 5]"
    assert box.get_attribute("aria-invalid") == "true"
    assert app.evaluate("() => window.__gradtrace.trace.value") == 12
    screenshot(app, screenshots / "tensors-bad-paste.png",
               [error, app.get_by_test_id("value-A-error-mark")])
    # Fixed by typing: the error goes.
    box.fill("[[1, 2], [3, 4.5]]")
    app.wait_for_function("() => window.__gradtrace.trace.value === 21")
    assert error.is_hidden()
    # Fill buttons: 0, 1, 2… row by row, then zeros.
    app.get_by_test_id("fill-arange-A").click()
    app.wait_for_function("() => window.__gradtrace.trace.value === 12")
    assert cells(app, "A", (2, 2)) == [[0, 1], [2, 3]]
    app.get_by_test_id("fill-zeros-A").click()
    app.wait_for_function("() => window.__gradtrace.trace.value === 0")


def test_typed_values_are_kept_across_edits_and_reloads(app: Page) -> None:
    open_empty(app)
    app.get_by_test_id("expr-input").fill(EXPR)
    wait_trace(app, EXPR)
    paste(app, app.get_by_test_id("value-X-text"), json.dumps(X))
    app.wait_for_function("() => /[?&]X=/.test(location.search)")
    wait_trace(app, EXPR)
    app.get_by_test_id("fill-random-W1").click()
    app.wait_for_function("() => /[?&]rng=1(&|$)/.test(location.search)")
    app.wait_for_function("() => document.querySelector('[data-testid=source-W1]')"
                          ".textContent === 'random numbers, draw 1'")
    w1 = node_value(app, "W1")
    # X leaves the expression and comes back: its value comes back with it.
    app.get_by_test_id("expr-input").fill("L = sum(relu(W1))")
    wait_trace(app, "L = sum(relu(W1))")
    assert app.get_by_test_id("shape-X").count() == 0
    app.get_by_test_id("expr-input").fill(EXPR)
    wait_trace(app, EXPR)
    assert node_value(app, "X") == X
    assert app.get_by_test_id("source-X").inner_text() == "typed"
    # A reload: the typed value from the URL, the drawn one drawn again from rng.
    app.wait_for_function(
        "() => /[?&]X=/.test(location.search) && /[?&]rng=1/.test(location.search)")
    app.reload()
    wait_trace(app, EXPR)
    assert node_value(app, "X") == X
    assert node_value(app, "W1") == w1
    assert app.get_by_test_id("source-W1").inner_text() == "random numbers, draw 1"


def test_the_output_gradient_is_shown_and_edited(app: Page) -> None:
    open_empty(app)
    app.get_by_test_id("expr-input").fill("h = relu(X @ W1)")
    wait_trace(app, "h = relu(X @ W1)")
    grad = app.get_by_test_id("output-gradient")
    assert grad.is_visible()
    assert app.get_by_test_id("grad-source").inner_text() == "ones, the default"
    out = app.evaluate("() => window.__gradtrace.trace.value")
    rows, cols = len(out), len(out[0])
    shown_grad = [[float(app.get_by_test_id(f"grad-{i}-{j}").input_value()) for j in range(cols)]
                  for i in range(rows)]
    assert shown_grad == [[1.0] * cols] * rows
    # One entry typed: the backward pass starts from it, and the URL keeps it.
    app.get_by_test_id("grad-0-0").fill("3")
    app.wait_for_function("() => JSON.stringify(window.__gradtrace.trace.seed).startsWith('[[3')")
    assert app.get_by_test_id("grad-source").inner_text() == "typed"
    app.wait_for_function("() => /[?&]seed=/.test(location.search)")
    # Back to ones.
    app.get_by_test_id("grad-reset").click()
    app.wait_for_function("() => !/[?&]seed=/.test(location.search)")
    assert app.get_by_test_id("grad-source").inner_text() == "ones, the default"
    # A scalar output: one number field.
    app.get_by_test_id("expr-input").fill(EXPR)
    wait_trace(app, EXPR)
    assert app.get_by_test_id("grad").input_value() == "1"
    assert app.get_by_test_id("grad-source").inner_text() == "1, the default"


def test_a_link_too_long_says_so_and_offers_the_offline_file(app: Page) -> None:
    open_empty(app)
    app.get_by_test_id("expr-input").fill("s = sum(A * 2)")
    wait_trace(app, "s = sum(A * 2)")
    big = [[round(i * 0.37 + j * 0.0113, 4) for j in range(40)] for i in range(40)]
    paste(app, app.get_by_test_id("value-A-text"), json.dumps(big))
    app.wait_for_function(
        "() => window.__gradtrace.trace.nodes.find(n => n.name === 'A').value.length === 40")
    app.get_by_test_id("share").click()
    note = app.get_by_test_id("share-too-long")
    note.wait_for()
    assert "more than the server takes" in note.inner_text()
    assert app.get_by_test_id("share-offline").is_visible()
    assert app.get_by_test_id("share-page").is_hidden()


def test_the_output_gradient_the_text_gives(app: Page) -> None:
    open_empty(app)
    text = "z = sigmoid(x)\nz.backward(torch.tensor([1., 2., 3.]))"
    app.get_by_test_id("expr-input").fill(text)
    wait_trace(app, text)
    # x is a vector of 3 (the output gradient's shape), drawn; the output gradient the text's.
    assert app.get_by_test_id("shape-x").input_value() == "3"
    assert app.get_by_test_id("grad-source").inner_text() == "from the text"
    assert [app.get_by_test_id(f"grad-{i}").input_value() for i in range(3)] == ["1", "2", "3"]
    # Typed over, it wins; "use the text's" takes it back.
    app.get_by_test_id("fill-zeros-grad").click()
    app.wait_for_function("() => JSON.stringify(window.__gradtrace.trace.seed) === '[0,0,0]'")
    assert app.get_by_test_id("grad-source").inner_text() == "typed"
    reset = app.get_by_test_id("grad-reset")
    assert reset.inner_text() == "use the text's"
    reset.click()
    app.wait_for_function("() => JSON.stringify(window.__gradtrace.trace.seed) === '[1,2,3]'")
    assert app.get_by_test_id("grad-source").inner_text() == "from the text"

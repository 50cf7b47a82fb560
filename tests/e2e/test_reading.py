"""Pasted text in Debian's chromium: a LaTeX formula and a NumPy cell from the lecture notes are
read by the server (POST /api/read), shown as "read as" with the lines skipped, their inputs get
value fields (the values the text gives, marked "from the text"), and stepping to the end gives
the gradients the notes print. Marked `slow` with every browser test (conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..corpus.notes_flow import CELL_NP_FORWARD, CELL_VALUES
from .conftest import screenshot
from .test_app import close, label, numbers_in, step_to_end, wait_trace, wire_labels

Page = Any  # playwright.sync_api.Page

FORMULA = r"\frac{1}{y+e^{-x}}"

# Lecture notes 003 ("Gradient flow in neural networks"), as the reading corpus holds them
# verbatim: In [14], the value cell from X to its print line, then In [17], the NumPy cell,
# from "# sigmoid function" to the error line.
VALUE_CELL = CELL_VALUES[CELL_VALUES.index("X = np.array"):]
NUMPY_FORWARD = CELL_NP_FORWARD.split("\n\n", 1)[1]

CELL = VALUE_CELL + "\n\n" + NUMPY_FORWARD

# What the notes print for the NumPy backward pass by hand (and TensorFlow agrees).
NOTES_DW1 = [
    [0.02087045, 0.01223012, 0.01079834],
    [0.00463788, 0.0027178, 0.00239963],
    [0.01623257, 0.00951231, 0.00839871],
]


def open_empty(page: Page) -> None:
    """The app with nothing typed: no expression, no values."""
    page.goto("/?expr=")
    page.get_by_test_id("empty-note").wait_for()
    assert page.get_by_test_id("expr-input").input_value() == ""
    assert page.locator(".value-editor").count() == 0


def editors(page: Page) -> list[str]:
    names: list[str] = page.eval_on_selector_all(
        ".value-editor", "els => els.map(e => e.dataset.name)"
    )
    return names


def test_latex_formula_is_read_and_gives_its_gradient(app: Page) -> None:
    open_empty(app)
    app.get_by_test_id("expr-input").press_sequentially(FORMULA, delay=20)
    wait_trace(app, FORMULA)
    # How it was understood, under the box.
    reading = app.get_by_test_id("reading")
    read_as = app.get_by_test_id("read-as")
    assert reading.is_visible() and read_as.is_visible()
    assert reading.inner_text().startswith("read as")
    assert read_as.inner_text() == "1 / (y + e^(-x))"
    assert app.get_by_test_id("skipped").is_hidden()
    # Value fields for the formula's inputs only: no `frac`, no `e` (the constant).
    assert sorted(editors(app)) == ["x", "y"]
    app.get_by_test_id("value-x").fill("0")
    app.get_by_test_id("value-y").fill("1")
    app.wait_for_function(
        "() => { const t = window.__gradtrace.trace;"
        " return t.nodes.some(n => n.name === 'x' && n.value === 0)"
        " && t.nodes.some(n => n.name === 'y' && n.value === 1); }"
    )
    assert numbers_in(app.get_by_test_id("output-value").inner_text()) == [0.5]
    # Step through: from the first step to the end of the backward pass.
    app.get_by_test_id("step-first").click()
    assert label(app).startswith("forward 1/")
    step_to_end(app)
    # The gradient shown for y: on its wire, and in the node panel once y is clicked.
    _, grad = wire_labels(app, "y")
    assert numbers_in(grad) == [-0.25]
    app.locator("[data-node-id][data-kind=input][data-name=y]").click()
    panel = app.get_by_test_id("inspector")
    assert panel.locator(".inspector-head").inner_text().startswith("y (input)")
    assert numbers_in(panel.locator(".is-grad .tensor-scalar").inner_text()) == [-0.25]
    # The values typed go into the URL, as for any expression.
    app.wait_for_function(
        "() => /[?&]x=0(&|$)/.test(location.search) && /[?&]y=1(&|$)/.test(location.search)"
    )


def test_pasted_numpy_cell_gives_the_notes_gradient(app: Page, screenshots: Path) -> None:
    open_empty(app)
    box = app.get_by_test_id("expr-input")
    box.focus()
    app.keyboard.insert_text(CELL)  # as a paste: the whole text in one input event
    wait_trace(app, CELL)
    # The lines skipped, listed with why, behind a disclosure opened from the keyboard.
    summary = app.get_by_test_id("skipped-summary")
    assert summary.inner_text() == "1 line skipped"
    lines = app.get_by_test_id("skipped-line")
    assert lines.first.is_hidden()
    summary.focus()
    app.keyboard.press("Enter")
    assert lines.count() == 1 and lines.first.is_visible()
    assert lines.first.locator(".skipped-text").inner_text() == VALUE_CELL.splitlines()[-1]
    assert lines.first.locator(".skipped-reason").inner_text() == "prints"
    # Read as the program: the matrix products and the error, the value lines as inputs.
    read_as = app.get_by_test_id("read-as").inner_text()
    assert "z1 = X @ W1" in read_as and "Error = " in read_as
    # The inputs' values are the text's, marked so, and not in the URL (the text has them).
    assert editors(app) == ["X", "W1", "W2", "W3", "y"]
    for name in ("X", "W1", "W2", "W3", "y"):
        assert app.get_by_test_id(f"from-text-{name}").is_visible()
    assert app.get_by_test_id("value-W1-1-2").input_value() == "0.5"
    assert app.get_by_test_id("value-y-0-1").input_value() == "0.7"
    # The unused local gradients are named in plain words.
    warnings = app.get_by_test_id("warnings").inner_text()
    assert "'dh1' is computed but the output does not use it" in warnings
    app.get_by_test_id("step-first").click()
    step_to_end(app)
    # The gradient of W1, in the node panel (its cells show 3 digits; their titles all of them).
    app.locator("[data-node-id][data-kind=input][data-name=W1]").click()
    cells = app.get_by_test_id("inspector").locator(".is-grad table.heat tr")
    shown = [
        [float(td.get_attribute("title")) for td in row.locator("td").all()] for row in cells.all()
    ]
    assert len(shown) == 3
    for got_row, want_row in zip(shown, NOTES_DW1, strict=True):
        for got, want in zip(got_row, want_row, strict=True):
            assert abs(got - want) <= 1e-6, (shown, NOTES_DW1)
    texts = [numbers_in(row.inner_text()) for row in cells.all()]
    for got_row, want_row in zip(texts, NOTES_DW1, strict=True):
        for got, want in zip(got_row, want_row, strict=True):
            assert close(got, want, sig=3), (texts, NOTES_DW1)
    app.wait_for_function("() => !/[?&]W1=/.test(location.search)")
    shows = [app.get_by_test_id("read-as"), "1 line skipped"]
    screenshot(app, screenshots / "reading-numpy-cell.png", shows)


def test_a_value_typed_over_the_texts_wins_until_taken_back(app: Page) -> None:
    open_empty(app)
    text = "X = np.array([[1., 2.]])\nw = np.array([[3.], [4.]])\nL = X @ w"
    app.get_by_test_id("expr-input").fill(text)
    wait_trace(app, text)
    assert app.get_by_test_id("output-value").get_attribute("data-value") == "[[11]]"
    app.get_by_test_id("value-X-0-0").fill("0")
    app.wait_for_function("() => window.__gradtrace.trace.value[0][0] === 8")
    assert app.get_by_test_id("from-text-X").is_hidden()
    back = app.get_by_test_id("use-text-X")
    assert back.is_visible()
    app.wait_for_function("() => /[?&]X=/.test(location.search)")
    back.click()
    app.wait_for_function("() => window.__gradtrace.trace.value[0][0] === 11")
    assert app.get_by_test_id("from-text-X").is_visible()
    assert app.get_by_test_id("value-X-0-0").input_value() == "1"
    app.wait_for_function("() => !/[?&]X=/.test(location.search)")


def test_the_output_gradient_the_text_gives_starts_the_backward_pass(app: Page) -> None:
    open_empty(app)
    text = (
        "x = tf.constant(1.5)\ndz = tf.constant(2.0)\n"
        "with tf.GradientTape() as g:\n    g.watch(x)\n    z = tf.sigmoid(x)\n"
        "dx = g.gradient(z, x, output_gradients=dz)"
    )
    app.get_by_test_id("expr-input").fill(text)
    wait_trace(app, text)
    assert app.get_by_test_id("reading-seed").inner_text() == "output gradient from the text: 2"
    assert app.get_by_test_id("read-as").inner_text() == "z = sigmoid(x)"
    assert app.get_by_test_id("skipped-summary").inner_text() == "3 lines skipped"
    trace = app.evaluate("() => window.__gradtrace.trace")
    assert trace["seed"] == 2
    # The first backward step starts from it, and says where it comes from.
    app.get_by_test_id("step-first").click()
    for _ in range(len(trace["forward"])):
        app.get_by_test_id("step-next").click()
    assert label(app) == f"backward 1/{len(trace['backward'])}"
    explain = app.get_by_test_id("explain")
    assert "the output gradient the text gives" in explain.inner_text().replace("\xa0", " ")
    assert explain.locator(".katex-error").count() == 0

"""Tensor steps show their numbers (issue 14, items 2, 3, 8, 9): the explanation of a matrix
product's backward step writes the upstream gradient, the VJP rule with the actual matrices and the
downstream gradients as matrices, which are read here from the formulas' own LaTeX (the MathML
annotation KaTeX writes beside its HTML) and checked against PyTorch in float64; a tensor too large
for a formula is a heatmap whose cells the keyboard reads out; every node has one name, the same in
the title, the formulas and on the graph."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ..helpers import require_torch
from .conftest import screenshot
from .test_app import close, flat, label, query

Page = Any  # playwright.sync_api.Page

ROOT = Path(__file__).resolve().parents[2]
PRESETS = {p["key"]: p for p in json.loads(
    (ROOT / "backend" / "gradtrace" / "data" / "seed_examples.json").read_text())}

BMATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}")


def tex_number(s: str) -> float:
    s = s.strip()
    m = re.fullmatch(r"(-?[\d.]+)\\times 10\^\{(-?\d+)\}", s)
    return float(f"{m.group(1)}e{m.group(2)}") if m else float(s)


def matrices(tex: str) -> list[list[list[float]]]:
    """The matrices a formula writes, row by row, as its LaTeX has them."""
    return [[[tex_number(c) for c in row.split("&")] for row in body.split("\\\\")]
            for body in BMATRIX.findall(tex)]


def formulas(page: Page) -> list[str]:
    """The LaTeX of every formula in the explanation, in order (KaTeX's MathML annotation)."""
    texts: list[str] = page.get_by_test_id("explain").locator(
        ".math-line annotation[encoding='application/x-tex']").all_text_contents()
    return texts


def preset_url(key: str, **extra: str) -> str:
    p = PRESETS[key]
    return "/" + query(p["expr"], p["values"], **extra)


def open_step(page: Page, key: str, title: str) -> None:
    """Open preset `key` at its first backward step and step on (the ▶ button) until the
    explanation's title is `title`."""
    page.goto(preset_url(key, step="b1"))
    page.wait_for_selector("[data-testid=explain] .katex")
    heading = page.get_by_test_id("explain").locator("h2")
    for _ in range(40):
        if heading.inner_text().endswith(title):
            return
        page.get_by_test_id("step-next").click()
    raise AssertionError(f"no step {title!r}: at {heading.inner_text()!r}")


def assert_close(shown: list[float], want: list[float]) -> None:
    assert len(shown) == len(want), (shown, want)
    for a, b in zip(shown, want, strict=True):
        assert close(a, b, 4), (shown, want)


def torch_two_layer() -> dict[str, list[float]]:
    """The two-layer preset in PyTorch, float64: the gradients of cost at X @ W1 (da), W1, X."""
    torch = require_torch()
    v = PRESETS["two-layer"]["values"]
    X = torch.tensor(v["X"], dtype=torch.float64, requires_grad=True)
    W1 = torch.tensor(v["W1"], dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor(v["W2"], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(v["y"], dtype=torch.float64)
    a = X @ W1
    a.retain_grad()
    h = torch.sigmoid(a)
    out = torch.sigmoid(h @ W2)
    cost = torch.sum((out - y) ** 2) / 2
    cost.backward()
    assert a.grad is not None and W1.grad is not None and X.grad is not None
    return {"da": a.grad.flatten().tolist(), "dW1": W1.grad.flatten().tolist(),
            "dX": X.grad.flatten().tolist()}


def test_a_matrix_products_step_writes_its_matrices_as_pytorch_computes_them(
    app: Page, screenshots: Path
) -> None:
    want = torch_two_layer()
    open_step(app, "two-layer", "a = X @ W1")
    assert label(app) == "backward 10/12"
    tex = formulas(app)
    # The upstream gradient da, then for each operand the rule by name and with the numbers.
    upstream = "da = \\frac{\\partial \\mathrm{cost}}{\\partial a} = \\begin{bmatrix}"
    assert tex[0].startswith(upstream)
    assert_close(flat(matrices(tex[0])[0]), want["da"])
    rule = tex.index("dW_{1} = X^{\\top}\\,da")
    x_t, da, dw1 = matrices(tex[rule + 1])
    assert x_t == [[0.1], [0.2]]  # X = [[0.1, 0.2]], transposed
    assert_close(flat(da), want["da"])
    assert_close(flat(dw1), want["dW1"])
    assert dw1[1][1] == -0.002623  # the notes' dL/dW1[1,1] = -0.0026226947
    rule = tex.index("dX = da\\,W_{1}^{\\top}")
    assert_close(flat(matrices(tex[rule + 1])[-1]), want["dX"])
    explain = app.get_by_test_id("explain")
    assert explain.locator(".katex-error").count() == 0
    # MathML beside the HTML of every formula, for screen readers.
    assert explain.locator(".math-line .katex-mathml math").count() == len(tex)
    text = explain.inner_text()
    assert "⟨" not in text and "seed" not in text
    # The dense Jacobian and its 34 GB are folded away, not said at every step.
    assert "34 GB" not in text
    assert explain.locator("details.explain-fold").count() == 2
    # The node's one name is the same on the graph, in the title and in the inspector.
    node = app.locator("[data-node-id=n2] .node-label")
    assert node.text_content() == "a"
    head = app.get_by_test_id("inspector").locator(".inspector-head")
    assert head.inner_text().startswith("a = X @ W1")
    screenshot(app, screenshots / "explain-tensor-matmul-step.png",
               [explain.locator(".math-line").nth(2), node])


def test_an_input_step_says_its_gradient_as_pytorch_does(app: Page) -> None:
    want = torch_two_layer()
    open_step(app, "two-layer", "W1 (input)")
    tex = formulas(app)
    assert tex[0].startswith("dW_{1} = \\frac{\\partial \\mathrm{cost}}{\\partial W_{1}} = ")
    assert_close(flat(matrices(tex[0])[0]), want["dW1"])


def test_a_tensor_too_large_for_a_formula_is_a_heatmap_read_cell_by_cell(app: Page) -> None:
    open_step(app, "tiny-cnn", "p = max_pool2d(h, 2, stride=1)")
    explain = app.get_by_test_id("explain")
    heat = explain.locator(".heatmap").first
    assert heat.get_attribute("data-shape") == "2×2×2×2"
    grad = json.loads(heat.get_attribute("data-value") or "null")
    trace = app.evaluate("() => window.__gradtrace.trace")
    p = next(n for n in trace["nodes"] if n["name"] == "p")
    assert grad == p["grad"]
    # The keyboard reads the cells: one tab stop, the arrows move, the readout follows.
    first = heat.locator(".heat-cell").first
    first.focus()
    app.keyboard.press("ArrowRight")
    app.keyboard.press("ArrowDown")
    readout = heat.locator(".heat-readout").inner_text()
    # Row 1, column 1 of the 4×4 map is number 5 (C order) of 2×2×2×2: index [0, 1, 0, 1].
    assert readout.startswith("dp[0, 1, 0, 1] = "), readout
    shown = float(readout.split("= ")[1].replace("\u2212", "-"))
    assert close(shown, p["grad"][0][1][0][1], 6)
    assert label(app).startswith("backward ")  # the arrows moved in the map, not the steps
    assert heat.locator(".heat-cell[tabindex='0']").count() == 1


@pytest.mark.parametrize("key", ["matmul", "softmax-vector", "conv2d"])
def test_every_tensor_step_has_its_numbers_and_no_shape_placeholder(app: Page, key: str) -> None:
    app.goto(preset_url(key, step="b1"))
    app.wait_for_selector("[data-testid=explain] .katex")
    explain = app.get_by_test_id("explain")
    total = int(label(app).split("/")[1])
    for _ in range(total):
        tex = formulas(app)
        assert any(matrices(t) for t in tex), (label(app), tex)
        assert not any("\\langle" in t and re.search(r"\\langle \d", t) for t in tex)
        assert explain.locator(".katex-error").count() == 0
        app.get_by_test_id("step-next").click()

"""The "Code" panel (issue 6, item 5): the expression as a runnable Python file.

On the circuit preset: open the panel, read the lecture notes' lines (`dq = z * df`), switch to
PyTorch, copy (the clipboard holds the file, "Copied" shows), Escape closes and gives the focus
back; the file follows a changed value; a bad expression shows the server's error; and the
panel's pictures in the three themes, for a person to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import screenshot
from .test_app import open_app, wait_trace

Page = Any  # playwright.sync_api.Page

CIRCUIT = "(x + y) * z"


def open_circuit(page: Page) -> None:
    """The circuit preset of the notes, by its URL (clicking the preset on the default page,
    which is the same expression, would race with the preset's own reload)."""
    open_app(page, CIRCUIT, {"x": -2, "y": 5, "z": -4})
    wait_trace(page, CIRCUIT)


def code_text(page: Page) -> str:
    text: str = page.get_by_test_id("code-text").inner_text()
    return text


def test_code_panel_numpy_pytorch_copy_escape(app: Page) -> None:
    app.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_circuit(app)
    button = app.get_by_test_id("code")
    button.click()
    panel = app.get_by_test_id("code-panel")
    assert panel.is_visible()
    assert button.get_attribute("aria-expanded") == "true"
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent.includes('df = ')")
    lines = code_text(app).splitlines()
    for line in ["q = x + y", "f = q * z", "dq = z * df", "dz = q * df", "dx = 1 * dq",
                 "dy = 1 * dq", "x = np.float64(-2.0)"]:
        assert any(ln == line or ln.startswith(line + "  #") for ln in lines), (line, lines)
    assert app.get_by_test_id("code-lang-numpy").get_attribute("aria-pressed") == "true"
    assert app.get_by_test_id("code-download").get_attribute("download") == "gradtrace_numpy.py"

    app.get_by_test_id("code-lang-pytorch").click()
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent"
        ".includes('f.backward(')")
    text = code_text(app)
    assert "requires_grad=True" in text and "import torch" in text
    assert app.get_by_test_id("code-lang-pytorch").get_attribute("aria-pressed") == "true"
    assert app.get_by_test_id("code-download").get_attribute("download") == "gradtrace_pytorch.py"

    # Copy, by the keyboard: the clipboard holds the whole file, and "Copied" shows.
    app.get_by_test_id("code-copy").focus()
    app.keyboard.press("Enter")
    status = app.get_by_test_id("code-status")
    status.filter(has_text="Copied").wait_for()
    copied = app.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("# gradtrace: the expression below in PyTorch")
    assert "f.backward(torch.tensor(1.0))" in copied and copied.endswith('show("z", z)\n')

    # Escape closes and gives the focus back to the button.
    app.keyboard.press("Escape")
    assert not panel.is_visible()
    assert app.evaluate("() => document.activeElement.dataset.testid") == "code"
    assert button.get_attribute("aria-expanded") == "false"


def test_code_follows_the_values_and_shows_errors(app: Page) -> None:
    open_circuit(app)
    app.get_by_test_id("code").click()
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent.includes('df = ')")
    app.get_by_test_id("value-x").fill("7")
    app.wait_for_function("() => window.__gradtrace.trace.value === -48")
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent"
        ".includes('x = np.float64(7.0)')")
    app.get_by_test_id("expr-input").fill("(x + y) * ")
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-panel]').classList.contains('failed')")
    assert "expected an operand" in code_text(app)


def test_code_follows_forward_mode(app: Page) -> None:
    open_circuit(app)
    app.get_by_test_id("code").click()
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent.includes('df = ')")
    app.get_by_test_id("mode-select").select_option("forward")
    app.get_by_test_id("wrt-select").select_option("x")
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent"
        ".includes('q_dot = 1 * x_dot')")
    assert "f_dot = z * q_dot" in code_text(app)
    assert app.get_by_test_id("code-note").inner_text().startswith("Forward mode along x")
    app.get_by_test_id("code-lang-pytorch").click()
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent"
        ".includes('fwAD.make_dual(x, torch.tensor(1.0))')")


@pytest.mark.parametrize("theme", ["light", "dark", "projector"])
def test_code_panel_screenshots(app: Page, screenshots: Path, theme: str) -> None:
    open_app(app)
    app.get_by_test_id("theme-select").select_option(theme)
    app.get_by_test_id("preset-relu-square").click()
    wait_trace(app, "p = x * w; q = max(p, 0); r = q - y; s = r^2; t = s + z")
    app.get_by_test_id("code").click()
    app.wait_for_function(
        "() => document.querySelector('[data-testid=code-text]').textContent.includes('dt = ')")
    assert app.evaluate("document.documentElement.dataset.theme") == theme
    text = app.get_by_test_id("code-text")
    screenshot(app, screenshots / f"code-panel-{theme}.png",
               [text, text.locator(".code-line", has_text="t = s + z")])
    # And scrolled to the backward pass, the lines a lecture reads out.
    app.evaluate("""() => {
        const pre = document.querySelector('.code-text');
        const line = [...pre.querySelectorAll('.code-line')]
            .find((l) => l.textContent.startsWith('# The forward pass'));
        pre.scrollTop = line.offsetTop - pre.offsetTop;
    }""")
    screenshot(app, screenshots / f"code-panel-{theme}-backward.png",
               [text.locator(".code-line", has_text="dt = ")])

"""The step narration (stage.ts's live region, narrate.ts's words) heard over whole passes, checked
against the trace: every number it says is a number of the record (to the 4 significant digits
said), and every number the step is about (a forward step's value; a backward step's upstream
gradient, each edge's local derivative and downstream gradient; forward mode's tangents) is said.

The page is driven by the keyboard alone (Home, then Right to the last step), as a screen reader
user steps it; the region is read after each key."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from .test_app import open_app

Page = Any

# The scalar and small-tensor worked examples of the notes (backend/gradtrace/data/seed_examples
# .json): every number of a small tensor is said.
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "circuit": ("(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0}),
    "pathway": ("a = -x; b = exp(a); c = y + b; d = 1 / c", {"x": 0.0, "y": 1.0}),
    "fan-out": ("c = a + b; d = b + 1; e = c * d", {"a": 2.0, "b": 1.0}),
    "relu-square": ("p = x * w; q = max(p, 0); r = q - y; s = r^2; t = s + z",
                    {"x": 1.0, "y": 0.0, "z": -2.0, "w": 3.0}),
    "multi-gradient": ("w = x^2 + 3 * x", {"x": 2.0}),
    "sigmoid-neuron": ("f = 1 / (1 + exp(-(w0 * x0 + w1 * x1 + w2)))",
                       {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}),
    "dot": ("z = dot(x, y)", {"x": [1.0, 2.0, 3.0], "y": [3.0, 2.0, 1.0]}),
    "sigmoid-vector": ("z = sigmoid(x)", {"x": [3.0, 4.0, 5.0]}),
}

# A number as narrate.ts says it: "minus 4", "0.25", "1.5 times 10 to the minus 5"; not a digit
# of a name (W1, x0, h₁) nor of an index written x[1] (those are small whole numbers anyway).
NUMBER = re.compile(
    r"(?<![\w.\u2080-\u2089])(minus )?(\d+(?:\.\d+)?)"
    r"(?: times 10 to the (minus )?(\d+))?(?![\w\u2080-\u2089])"
)
SAID_MAX = 6  # a tensor of up to 6 numbers is said in full (narrate.ts)


def spoken_numbers(text: str) -> list[float]:
    out = []
    for m in NUMBER.finditer(text):
        x = float(m.group(2))
        if m.group(3) is not None:
            x *= 10.0 ** (-int(m.group(4)) if m.group(3) else int(m.group(4)))
        out.append(-x if m.group(1) else x)
    for word in ("infinity", "not a number"):
        if word in text:
            out.append(math.inf if word == "infinity" else math.nan)
    return out


def flat(x: Any) -> list[float]:
    if x is None:
        return []
    if isinstance(x, list):
        return [y for v in x for y in flat(v)]
    return [float(x)]


def said(x: float, numbers: list[float]) -> bool:
    """`x` is among `numbers`, to the 4 significant digits the narration says."""
    return any(close(x, y) for y in numbers)


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=6e-4, abs_tol=1e-12)


def small(t: Any) -> list[float]:
    """The numbers of a value the narration says in full (a scalar, a tensor of up to 6)."""
    f = flat(t)
    return f if len(f) <= SAID_MAX else []


def record_numbers(trace: dict[str, Any], total: int) -> list[float]:
    """Every number a step may say: the record's values, gradients, tangents, upstream gradients,
    terms and their running sums, local derivatives, downstream gradients; and the counts (step
    k of n, an index, a shape's lengths)."""
    nums: list[float] = [float(i) for i in range(total + 2)]
    for n in trace["nodes"]:
        nums += flat(n["value"]) + flat(n.get("grad")) + flat(n.get("tangent"))
        nums += [float(d) for d in n["shape"]]  # "a 2 by 3 matrix"
    for e in trace["edges"]:
        nums += flat(e.get("local")) + flat(e.get("downstream")) + flat(e.get("tangent"))
    for s in trace["backward"]:
        nums += flat(s["upstream"])
        run: list[float] = []
        for term in s["terms"]:
            vals = flat(term["value"])
            run = vals if not run else [a + b for a, b in zip(run, vals, strict=False)]
            nums += vals + run
        for e in s["edges"]:
            nums += flat(e.get("local")) + flat(e.get("downstream"))
    return nums


def expected(trace: dict[str, Any], index: int) -> list[float]:
    """The numbers step `index` is about: each must be said."""
    forward = trace["forward"]
    by_id = {n["id"]: n for n in trace["nodes"]}
    if index < len(forward):
        node = by_id[forward[index]]
        want = small(node["value"])
        if trace.get("mode") == "forward":
            want += small(node.get("tangent"))
        return want
    step = trace["backward"][index - len(forward)]
    want = small(step["upstream"])
    for e in step["edges"]:
        if by_id[e["source"]].get("labels"):
            continue  # labels take no gradient: nothing flows to them
        want += flat(e["local"]) if e.get("local") is not None else []
        want += small(e.get("downstream"))
    return want


def hear_every_step(page: Page) -> list[tuple[int, str]]:
    """Home, then Right to the last step: the region's words at each step."""
    page.keyboard.press("Home")
    total = page.evaluate("window.__gradtrace.trace.forward.length"
                          " + window.__gradtrace.trace.backward.length")
    heard = []
    for i in range(total):
        if i:
            page.keyboard.press("ArrowRight")
        assert page.evaluate("window.__gradtrace.step") == i
        heard.append((i, page.locator("[data-testid=narration]").inner_text()))
    return heard


def check_pass(page: Page) -> int:
    trace = page.evaluate("window.__gradtrace.trace")
    total = len(trace["forward"]) + len(trace["backward"])
    allowed = record_numbers(trace, total)
    heard = hear_every_step(page)
    assert len(heard) == total
    for i, text in heard:
        numbers = spoken_numbers(text)
        assert text.strip(), f"step {i + 1}: nothing said"
        stray = [x for x in numbers if not said(x, allowed)]
        assert not stray, f"step {i + 1} says {stray}, numbers the trace does not have: {text!r}"
        missing = [x for x in expected(trace, i) if not said(x, numbers)]
        assert not missing, f"step {i + 1} does not say {missing}: {text!r}"
    return total


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_step_is_said_with_the_traces_numbers(app: Page, key: str) -> None:
    expr, values = PRESETS[key]
    open_app(app, expr, values)
    assert app.locator("[data-testid=narration]").get_attribute("aria-live") == "polite"
    assert check_pass(app) > 2


def test_the_issues_sentence(app: Page) -> None:
    """The circuit's first backward step past the output, in full: what q is, what it receives,
    each local derivative and what each input receives."""
    open_app(app, "q = x + y; f = q * z", {"x": -2.0, "y": 5.0, "z": -4.0})
    trace = app.evaluate("window.__gradtrace.trace")
    by_id = {n["id"]: n for n in trace["nodes"]}
    names = [by_id[s["node"]]["display"] for s in trace["backward"]]
    app.keyboard.press("Home")
    app.keyboard.press("b")  # the first backward step
    for _ in range(names.index("q")):
        app.keyboard.press("ArrowRight")
    text = app.locator("[data-testid=narration]").inner_text()
    n = len(trace["backward"])
    k = names.index("q") + 1
    assert text.startswith(f"Backward step {k} of {n}."), text
    for words in ("q equals x plus y", "minus 4", "with respect to x is 1",
                  "x receives minus 4", "y receives minus 4"):
        assert words in text, (words, text)


def test_brief_says_the_same_numbers_in_fewer_words(app: Page) -> None:
    expr, values = PRESETS["sigmoid-neuron"]
    open_app(app, expr, values)
    app.keyboard.press("End")
    full = app.locator("[data-testid=narration]").inner_text()
    app.select_option("[data-testid=verbosity]", "brief")
    # The new choice is heard at once: the step said again, in brief.
    now = app.locator("[data-testid=narration]").inner_text()
    assert now.startswith("Backward ") and not now.startswith("Backward step"), now
    app.keyboard.press("Home")
    app.keyboard.press("End")
    brief = app.locator("[data-testid=narration]").inner_text()
    assert len(brief) < len(full)
    assert sorted(spoken_numbers(brief)) == sorted(spoken_numbers(full)) or set(
        spoken_numbers(full)) >= set(spoken_numbers(brief))
    # The choice is kept for the next page.
    app.reload()
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    assert app.locator("[data-testid=verbosity]").input_value() == "brief"


def test_forward_mode_is_said_with_its_tangents(app: Page) -> None:
    expr, values = PRESETS["sigmoid-neuron"]
    open_app(app, expr, values)
    app.select_option("[data-testid=mode-select]", "forward")
    app.wait_for_function(
        "() => window.__gradtrace.trace && window.__gradtrace.trace.mode === 'forward'")
    assert check_pass(app) > 2
    assert "Forward step" in app.locator("[data-testid=narration]").inner_text()


def test_a_new_value_at_the_same_step_is_not_said_again(app: Page) -> None:
    """A value changed (a slider dragged) gives new numbers at the same step: the region keeps
    quiet, so that a screen reader is not flooded; a step is said once."""
    open_app(app, "(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0})
    app.keyboard.press("End")
    before = app.locator("[data-testid=narration]").inner_text()
    renders = app.evaluate("window.__gradtrace.renders")
    field = app.locator("[data-testid=value-x]")
    field.fill("3")
    field.press("Enter")
    app.wait_for_function("r => window.__gradtrace.renders > r", arg=renders)
    assert app.locator("[data-testid=narration]").inner_text() == before

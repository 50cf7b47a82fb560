"""Forward mode in the browser (issue 6): the mode switch, wrt, forward stepping with tangents,
the output's derivative, the chain rule forward, and back to reverse mode unchanged."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import screenshot
from .test_app import grad_of, label, numbers_in, open_app, step_to_end, wait_trace
from .test_embed import offline  # noqa: F401  (the fixture: a page for files opened from disk)

Page = Any  # playwright.sync_api.Page


EXPR = "(x + y) * z"
VALUES = {"x": -2, "y": 5, "z": -4}


def node(page: Page, **attrs: str) -> Any:
    sel = "".join(f"[data-{k}={v}]" for k, v in attrs.items())
    return page.locator(f"[data-node-id]{sel}")


def output_node(page: Page) -> Any:
    return page.locator("[data-node-id].output")


def derivative_number(page: Page) -> float:
    nums = numbers_in(page.get_by_test_id("derivative").inner_text())
    assert nums, page.get_by_test_id("derivative").inner_text()
    return nums[-1]


def wait_mode(page: Page, mode: str, wrt: str | None = None) -> None:
    page.wait_for_function(
        "([m, w]) => { const t = window.__gradtrace && window.__gradtrace.trace;"
        " return t && (t.mode || 'reverse') === m && (w === null || t.wrt === w); }",
        arg=[mode, wrt],
    )


def test_forward_mode_steps_the_tangents_and_back_to_reverse(app: Page) -> None:
    open_app(app)
    app.get_by_test_id("preset-circuit").click()
    wait_trace(app, EXPR)
    app.get_by_test_id("mode-select").select_option("forward")
    wait_mode(app, "forward", "x")
    # wrt lists the inputs, the first chosen; the URL says so.
    options = app.get_by_test_id("wrt-select").locator("option").all_inner_texts()
    assert options == ["x", "y", "z"]
    assert app.get_by_test_id("wrt-select").input_value() == "x"
    app.wait_for_function("() => location.search.includes('mode=forward&wrt=x')")
    # Forward steps only, left to right: each node's tangent appears at its own step.
    app.get_by_test_id("step-first").click()
    assert label(app) == "forward 1/5"
    tangents = app.locator("[data-node-id][data-tangent]")
    assert tangents.count() == 1
    assert node(app, name="x").get_attribute("data-tangent") == "1"
    assert app.locator("[data-node-id][data-grad]").count() == 0
    for k in range(2, 6):
        app.get_by_test_id("step-next").click()
        assert label(app) == f"forward {k}/5"
        assert tangents.count() == k
    app.get_by_test_id("step-next").click()  # no backward pass in forward mode
    assert label(app) == "forward 5/5"
    assert node(app, name="y").get_attribute("data-tangent") == "0"
    assert output_node(app).get_attribute("data-tangent") == "-4"
    assert derivative_number(app) == -4
    assert app.get_by_test_id("derivative").get_attribute("data-value") == "-4"
    assert "∂f/∂x" in app.get_by_test_id("derivative").inner_text()
    # The edge contributions, in the tangent colour's labels: x -> + is 1, + -> × is -4.
    shown = [numbers_in(t) for t in app.locator("text.edge-tangent[data-edge]").all_text_contents()]
    assert sorted(x for n in shown for x in n) == [-4, 1]
    # The explanation: the chain rule forward with numbers, and what each mode costs.
    explain = app.get_by_test_id("explain")
    assert explain.locator(".katex").count() >= 2
    cost = app.get_by_test_id("cost").inner_text().lower()
    assert "reverse" in cost and "forward" in cost
    # Another input: d/dz of (x + y) * z is x + y = 3.
    app.get_by_test_id("wrt-select").select_option("z")
    wait_mode(app, "forward", "z")
    assert label(app) == "forward 5/5"
    app.wait_for_function(
        "() => document.querySelector('[data-node-id].output').dataset.tangent === '3'"
    )
    assert derivative_number(app) == 3
    assert node(app, name="x").get_attribute("data-tangent") == "0"
    app.wait_for_function("() => location.search.includes('mode=forward&wrt=z')")
    # Back to reverse mode: the gradients as before, no tangents, no derivative, no mode in URL.
    app.get_by_test_id("mode-select").select_option("reverse")
    wait_mode(app, "reverse")
    step_to_end(app)
    assert label(app) == "backward 5/5"
    assert [grad_of(app, n) for n in ("x", "y", "z")] == ["-4", "-4", "3"]
    assert app.locator("[data-node-id][data-tangent]").count() == 0
    assert app.get_by_test_id("derivative").inner_text() == ""
    assert not app.get_by_test_id("wrt-select").is_visible()
    app.wait_for_function("() => !location.search.includes('mode=')")


def test_forward_mode_from_the_url_and_keys(app: Page) -> None:
    app.goto("/?expr=%28x%20%2B%20y%29%20%2A%20z&x=-2&y=5&z=-4&mode=forward&wrt=z&step=f3")
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    wait_mode(app, "forward", "z")
    assert label(app) == "forward 3/5"
    assert app.get_by_test_id("mode-select").input_value() == "forward"
    assert app.get_by_test_id("wrt-select").input_value() == "z"
    # At step 3 (+) nothing depends on z yet: tangents 0, and none known beyond the step.
    assert app.locator("[data-node-id][data-tangent]").count() == 3
    assert output_node(app).get_attribute("data-tangent") is None
    # The current node (+) says its own tangent under it.
    assert app.locator("text.node-sum.tangent").text_content() == "d/dz = 0"
    # The keys step (the select gave them back) and End reaches the derivative.
    app.keyboard.press("End")
    assert label(app) == "forward 5/5"
    assert output_node(app).get_attribute("data-tangent") == "3"
    assert derivative_number(app) == 3
    assert app.get_by_test_id("explain").locator(".katex").count() >= 2
    assert re.search(r"\b3 passes|3 inputs", app.get_by_test_id("cost").inner_text())


def test_forward_mode_along_a_direction_from_the_url(app: Page) -> None:
    app.goto("/?expr=x%20*%20y&x=2&y=3&mode=forward&wrt=x&tangent=2")
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    wait_mode(app, "forward", "x")
    assert app.get_by_test_id("derivative").inner_text() == "∂f/∂x · 2 = 6"
    assert output_node(app).get_attribute("data-tangent") == "6"
    assert "tangent=2" in app.evaluate("location.search")


@pytest.mark.parametrize("theme", ["light", "projector"])
def test_forward_mode_screenshots(app: Page, screenshots: Path, theme: str) -> None:
    open_app(app, EXPR, VALUES)
    app.get_by_test_id("theme-select").select_option(theme)
    app.get_by_test_id("mode-select").select_option("forward")
    wait_mode(app, "forward", "x")
    app.get_by_test_id("step-last").click()
    assert label(app) == "forward 5/5"
    assert output_node(app).get_attribute("data-tangent") == "-4"
    assert app.evaluate("document.documentElement.dataset.theme") == theme
    screenshot(app, screenshots / f"forward-{theme}-last.png",
               [app.get_by_test_id("step-label").filter(has_text="forward 5/5"),
                output_node(app), app.get_by_test_id("derivative")])


def test_forward_mode_share_links_carry_the_mode(app: Page) -> None:
    app.goto("/?expr=%28x%20%2B%20y%29%20%2A%20z&x=-2&y=5&z=-4&mode=forward&wrt=z&step=f2")
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    wait_mode(app, "forward", "z")
    assert label(app) == "forward 2/5"
    app.get_by_test_id("share").click()
    for key in ("page", "embed", "svg", "html"):
        assert "step=f2&mode=forward&wrt=z" in app.get_by_test_id(f"share-{key}").input_value()


def test_forward_mode_picture_link_draws_what_the_page_shows(app: Page) -> None:
    """The share dialog's SVG link, fetched from the server, has the page's tangent labels."""
    import httpx

    app.goto("/?expr=q%20%3D%20x%20*%20y%3B%20q%20%2B%20sin(x)&x=2&y=3&mode=forward&wrt=x")
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    wait_mode(app, "forward", "x")
    for step in ("step-first", "step-next", "step-next", "step-next", "step-last"):
        app.get_by_test_id(step).click()
        app.get_by_test_id("share").click()
        link = app.get_by_test_id("share-svg").input_value()
        app.get_by_test_id("share").click()
        svg = httpx.get(link, timeout=30)
        assert svg.status_code == 200, svg.text[:300]
        on_page = sorted(t for t in app.locator("text.edge-tangent").all_text_contents() if t)
        # (Not the picture's colour key: its sample of a tangent is no label of the graph.)
        graph = re.sub(r'<g class="key".*?</g>', "", svg.text, flags=re.S)
        drawn = sorted(re.findall(r'class="edge-tangent[^"]*"[^>]*>([^<]+)</text>', graph))
        assert drawn == on_page, (label(app), drawn, on_page)
        sums = [t for t in app.locator("text.node-sum.tangent").all_text_contents() if t]
        assert sums and all(f">{t}</text>" in svg.text for t in sums), sums
        assert f">{label(app)} · forward mode along x" in svg.text
    assert on_page.count("∂ 2.58") == 1  # the output's derivative, y + cos 2


def test_forward_mode_offline_html(
    app: Page,
    offline: tuple[Page, list[str]],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    screenshots: Path,
) -> None:
    """The offline HTML file of a forward-mode view steps forward mode, with tangents."""
    app.goto("/?expr=%28x%20%2B%20y%29%20%2A%20z&x=-2&y=5&z=-4&mode=forward&wrt=z&step=f2")
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    wait_mode(app, "forward", "z")
    with app.expect_download() as info:
        app.get_by_test_id("export-html").click()
    path = tmp_path / "gradtrace.html"
    info.value.save_as(path)
    page, problems = offline
    page.goto(path.as_uri())
    page.wait_for_selector("[data-node-id]")
    assert label(page) == "forward 2/5"
    assert page.get_by_test_id("mode").inner_text() == "forward mode along z"
    # At step 2 only x and y are known, and neither depends on z.
    assert page.locator("[data-node-id][data-tangent]").count() == 2
    assert node(page, name="y").get_attribute("data-tangent") == "0"
    assert page.locator("[data-node-id][data-grad]").count() == 0
    # The derivative is the file's answer from the start, as in the app's output bar.
    assert page.get_by_test_id("derivative").get_attribute("data-value") == "3"
    page.keyboard.press("End")
    assert label(page) == "forward 5/5"
    page.keyboard.press("ArrowRight")  # no backward pass to step into
    assert label(page) == "forward 5/5"
    assert output_node(page).get_attribute("data-tangent") == "3"
    assert node(page, name="z").get_attribute("data-tangent") == "1"
    assert page.locator("[data-node-id][data-grad]").count() == 0
    # The only tangent contributions: z -> × carries (x + y)·1 = 3; z's own edge shows it.
    tangent_labels = page.locator("text.edge-tangent[data-edge]").all_text_contents()
    assert sorted(x for t in tangent_labels for x in numbers_in(t)) == [3]
    assert "∂f/∂z = 3" in page.get_by_test_id("derivative").inner_text()
    page.wait_for_timeout(150)
    screenshot(page, screenshots / "standalone-forward-end.png",
               [page.get_by_test_id("derivative").filter(has_text="∂f/∂z = 3"),
                page.locator("text.edge-tangent[data-edge]", has_text="3")])
    assert problems == []


def test_forward_mode_step_downloads_as_svg_with_the_tangent_colour(app: Page) -> None:
    """The app's own SVG download (frontend/src/export.ts, styles inlined) keeps the tangents
    in their colour, as the server's picture draws them."""
    from gradtrace.render import THEMES

    app.goto("/?expr=%28x%20%2B%20y%29%20%2A%20z&x=-2&y=5&z=-4&mode=forward&wrt=x")
    app.wait_for_selector("[data-testid=graph] [data-node-id]")
    wait_mode(app, "forward", "x")
    with app.expect_download() as info:
        app.get_by_test_id("export-svg").click()
    text = Path(info.value.path()).read_text()
    colour = str(THEMES["light"]["tangent"])
    rgb = ", ".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    tangents = re.findall(rf'<text[^>]*fill:\s*rgb\({rgb}\)[^>]*>([^<]+)</text>', text)
    assert sorted(tangents) == sorted(["∂ 1", "∂ −4", "∂ −4", "d/dx = −4"]), tangents

"""The view's state in a URL query, shared by the page, /embed and the picture URLs.

    ?expr=(x%2By)*z&x=-2&y=5&z=-4&step=b3&theme=projector

- `expr`: the expression;
- one parameter per input value, the value as JSON: `x=-2`, `W=[[1,2],[3,4]]`;
- `seed`: the output gradient (JSON), `step`: `f<k>`, `b<k>`, `start` or `end`, `theme`:
  light, dark or projector, `scale`: the PNG scale factor;
- `mode`: `reverse` (the default) or `forward`; in forward mode `wrt`, the input to differentiate
  along, and `tangent`, the direction (JSON; ones of the input's shape when absent);
- `hide`, `autoplay`, `speed`, `check`, `hessian` shape the page's UI only (pictures and files
  ignore them);
- the list of these parameters, each with a description, is data/url_params.json (the page's
  frontend/src/url-state.ts reads it too);
- an input whose name is one of these reserved words (or any input at all) may be given as
  `v.<name>`: `v.step=3` is the value of an input called `step`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal, cast

from .errors import GradtraceError

Mode = Literal["reverse", "forward"]


def _params() -> list[dict[str, str]]:
    """The view's parameters, each with its description (data/url_params.json, which the page's
    frontend/src/url-state.ts reads too)."""
    text = resources.files("gradtrace").joinpath("data/url_params.json").read_text(encoding="utf-8")
    params: list[dict[str, str]] = json.loads(text)["params"]
    return params


PARAMS = _params()
# Parameters of the view, not input values.
RESERVED = frozenset(p["name"] for p in PARAMS)
_DECIMAL = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ViewState:
    expr: str
    values: dict[str, Any] = field(default_factory=dict)
    seed: Any = None
    step: str | None = None
    theme: str = "light"
    scale: float = 1.0
    mode: Mode = "reverse"
    wrt: str | None = None
    tangent: Any = None
    rng: int = 0
    dir: Literal["down", "right"] | None = None


def _json(name: str, text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError):
        raise GradtraceError("value", f"{what} {name!r} in the URL is not a number or a JSON "
                             f"list: {text[:40]!r}") from None


def from_query(items: Iterable[tuple[str, str]]) -> ViewState:
    params: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key, text in items:
        if key.startswith("v.") and _NAME.fullmatch(key[2:]):
            values[key[2:]] = _json(key[2:], text, "the value of")
        elif key in RESERVED:
            params[key] = text
        elif _NAME.fullmatch(key):
            values.setdefault(key, _json(key, text, "the value of"))
    if "expr" not in params:
        raise GradtraceError("syntax", "the URL has no expr parameter")
    scale = 1.0
    if "scale" in params:
        # A plain decimal number: float() would also take "٣", "２" and "0_5".
        text = params["scale"].strip()
        scale = float(text) if _DECIMAL.fullmatch(text) else float("nan")
        if not 0.1 <= scale <= 8:
            raise GradtraceError("value", "scale must be a number from 0.1 to 8")
    seed = _json("seed", params["seed"], "the output gradient") if "seed" in params else None
    mode: Mode
    text = params.get("mode", "reverse")
    if text == "forward":
        mode = "forward"
    elif text == "reverse":
        mode = "reverse"
    else:
        # The message of trace() for the same mistake in a POST /api/trace body.
        raise GradtraceError("value", f"unknown mode {text[:20]!r}: give 'reverse' or 'forward'",
                             0, len(params["expr"]))
    # wrt and tangent are checked by trace() against the graph (an input of it? of its shape?),
    # so that a URL and a POST /api/trace body get the same answers.
    tangent = (_json("tangent", params["tangent"], "the direction")
               if "tangent" in params else None)
    rng = 0
    if "rng" in params:
        text = params["rng"].strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            raise GradtraceError("value", f"rng must be a whole number: {text[:20]!r}")
        rng = int(text)
    direction = params.get("dir")
    if direction not in (None, "down", "right"):
        raise GradtraceError("value", f"unknown direction {direction[:20]!r}: use down or right")
    return ViewState(params["expr"], values, seed, params.get("step"),
                     params.get("theme", "light"), scale, mode, params.get("wrt"), tangent, rng,
                     cast(Literal["down", "right"] | None, direction))

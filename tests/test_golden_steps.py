"""Old links keep their meaning: a lecturer's slide embeds a URL such as `...&step=b3`, and step b3
must go on naming the node it named when the slide was made.

tests/golden/steps.json pins, for every preset (backend/gradtrace/data/seed_examples.json), in
reverse mode and in forward mode along its first input, the node each step names: `f1`..`fN` the
forward steps, `b1`..`bM` the backward ones (the step model of frontend/src/steps.ts and
render.step_index). A node is pinned by what a slide shows of it, not by its id (ids may be
renumbered freely): its kind, op, label, shape and the text of the expression it comes from
(`expr[start:end]`, and the span itself).

A change to the graph or the steps that moves an embedded slide fails here, preset and step
named. If the change is intended, regenerate the file and review its diff:

    GRADTRACE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_steps.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gradtrace import trace
from gradtrace.render import step_index, step_view

from .conftest import SEEDS

GOLDEN = Path(__file__).resolve().parent / "golden" / "steps.json"
UPDATE = os.environ.get("GRADTRACE_UPDATE_GOLDEN") == "1"
HOW_TO_UPDATE = ("if the change is intended (old slides will show another node), regenerate with "
                 "`GRADTRACE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_steps.py` and "
                 "review the diff of tests/golden/steps.json")
MODES = ("reverse", "forward")


def first_input(record: dict[str, Any]) -> str:
    """The input forward mode differentiates by unless told: the first in forward order (the
    app's wrt select lists the inputs in that order and selects the first)."""
    nodes = {n["id"]: n for n in record["nodes"]}
    name: str = next(nodes[i]["name"] for i in record["forward"] if nodes[i]["kind"] == "input")
    return name


def record_of(preset: dict[str, Any], mode: str) -> dict[str, Any]:
    """The trace a slide of `preset` shows, as the app asks for it."""
    reverse = trace(preset["expr"], preset["values"], preset.get("seed"))
    if mode == "reverse":
        return dict(reverse)
    return dict(trace(preset["expr"], preset["values"], preset.get("seed"), mode="forward",
                      wrt=first_input(reverse)))


def describe(record: dict[str, Any], node_id: str) -> dict[str, Any]:
    """What a slide shows of a node, independent of its id."""
    node = next(n for n in record["nodes"] if n["id"] == node_id)
    start, end = node["start"], node["end"]
    return {"kind": node["kind"], "op": node["op"], "label": node["label"],
            "shape": node["shape"], "text": record["expr"][start:end], "span": [start, end]}


def steps_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step spec of the record with the node it names, read by the server's own step parser
    (render.step_index / step_view), which must agree with the step model of the frontend:
    forward step k is forward[k-1], backward step k is backward[k-1]["node"]."""
    specs = [f"f{k}" for k in range(1, len(record["forward"]) + 1)]
    specs += [f"b{k}" for k in range(1, len(record["backward"]) + 1)]
    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        view = step_view(record, step_index(record, spec))
        k = int(spec[1:])
        model = (record["forward"][k - 1] if spec[0] == "f"
                 else record["backward"][k - 1]["node"])
        assert (view.phase[0], view.k, view.current) == (spec[0], k, model), (spec, view)
        out[spec] = describe(record, model)
    return out


def pinned(preset: dict[str, Any], mode: str) -> dict[str, Any]:
    """What the golden file holds of `preset` in `mode`."""
    record = record_of(preset, mode)
    wrt = {"wrt": record["wrt"]} if mode == "forward" else {}
    return {**wrt, "steps": steps_of(record)}


def current(preset: dict[str, Any]) -> dict[str, Any]:
    return {"expr": preset["expr"], **{mode: pinned(preset, mode) for mode in MODES}}


def dumps(golden: dict[str, Any]) -> str:
    """JSON with one line per step, so that a moved step is one line of the diff."""
    lines = ["{"]
    for i, (key, entry) in enumerate(golden.items()):
        lines.append(f"  {json.dumps(key)}: {{")
        lines.append(f'    "expr": {json.dumps(entry["expr"], ensure_ascii=False)},')
        for j, mode in enumerate(MODES):
            lines.append(f"    {json.dumps(mode)}: {{")
            if "wrt" in entry[mode]:
                lines.append(f'      "wrt": {json.dumps(entry[mode]["wrt"])},')
            lines.append('      "steps": {')
            steps = list(entry[mode]["steps"].items())
            for k, (spec, node) in enumerate(steps):
                comma = "," if k < len(steps) - 1 else ""
                lines.append(f"        {json.dumps(spec)}: "
                             f"{json.dumps(node, ensure_ascii=False)}{comma}")
            lines.append("      }")
            lines.append("    }" + ("," if j < len(MODES) - 1 else ""))
        lines.append("  }" + ("," if i < len(golden) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(dumps({p["key"]: current(p) for p in SEEDS}), encoding="utf-8")
    assert GOLDEN.is_file(), f"{GOLDEN} is missing: {HOW_TO_UPDATE}"
    data: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


def test_every_preset_is_pinned(golden: dict[str, Any]) -> None:
    presets = [p["key"] for p in SEEDS]
    assert list(golden) == presets, (
        f"the presets are {presets}, the golden file has {list(golden)}: {HOW_TO_UPDATE}")


def test_golden_file_is_as_written(golden: dict[str, Any]) -> None:
    """The file is in the one-step-per-line form, so that reviews see moved steps plainly."""
    assert GOLDEN.read_text(encoding="utf-8") == dumps(golden), HOW_TO_UPDATE


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("preset", SEEDS, ids=[p["key"] for p in SEEDS])
def test_steps_name_the_pinned_nodes(golden: dict[str, Any], preset: dict[str, Any],
                                     mode: str) -> None:
    key = preset["key"]
    assert key in golden, f"preset {key!r} is not pinned: {HOW_TO_UPDATE}"
    want, got = golden[key], pinned(preset, mode)
    assert preset["expr"] == want["expr"], (
        f"preset {key!r}: its expression changed from {want['expr']!r} to {preset['expr']!r}; "
        f"slides made with the old one show other nodes: {HOW_TO_UPDATE}")
    if mode == "forward":
        assert got["wrt"] == want[mode]["wrt"], (
            f"preset {key!r}: forward mode's first input is now {got['wrt']!r}, "
            f"was {want[mode]['wrt']!r}: {HOW_TO_UPDATE}")
    old, new = want[mode]["steps"], got["steps"]
    moved = [f"  step={spec}: was {old.get(spec)}, now {new.get(spec)}"
             for spec in dict.fromkeys([*old, *new]) if old.get(spec) != new.get(spec)]
    assert not moved, (f"preset {key!r} ({mode} mode): {len(moved)} step(s) name another node "
                       "than the golden file says, so embedded slides would move:\n"
                       + "\n".join(moved) + f"\n{HOW_TO_UPDATE}")

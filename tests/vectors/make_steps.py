"""Writes tests/vectors/steps.json: small records cut from real traces, step specs, and the step
state at every index. Run it again only when the step model changes on purpose, and review the
diff: the file is the specification that steps.ts/url-state.ts and render.py are both checked
against (tests/test_vectors.py, frontend/tests/vectors.test.ts).

    .venv/bin/python tests/vectors/make_steps.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradtrace import trace
from gradtrace.errors import GradtraceError
from gradtrace.render import step_index, step_view

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("(x + y) * z", {"x": -2, "y": 5, "z": -4}, {}),
    ("a = x * y; b = a + a; b * x", {"x": 3, "y": -1}, {}),
    ("(x + y) * z", {"x": -2, "y": 5, "z": -4}, {"mode": "forward", "wrt": "x"}),
    ("sigmoid(w * x)", {"w": [1, 2], "x": [3, -4]}, {"mode": "forward", "wrt": "w"}),
]


def record(t: dict[str, Any]) -> dict[str, Any]:
    """What both step models read of a trace."""
    return {
        "expr": t["expr"],
        "mode": t["mode"],
        "nodes": [{"id": n["id"], "tangent": n.get("tangent")} for n in t["nodes"]],
        "edges": [{"id": e["id"], "source": e["source"], "target": e["target"],
                   "tangent": e.get("tangent")} for e in t["edges"]],
        "forward": t["forward"],
        "backward": [{"node": s["node"], "edges": [{"id": e["id"]} for e in s["edges"]],
                      "terms": [{"edge": x["edge"]} for x in s["terms"]]} for s in t["backward"]],
    }


def state(t: dict[str, Any], i: int) -> dict[str, Any]:
    v = step_view(t, i)
    return {"index": v.index, "phase": v.phase, "k": v.k, "n": v.n, "label": v.label,
            "current": v.current, "valued": sorted(v.valued), "graded": sorted(v.graded),
            "edge_grads": sorted(v.edge_grads), "arriving": sorted(v.arriving),
            "sending": sorted(v.sending), "tangented": sorted(v.tangented),
            "edge_tangents": sorted(v.edge_tangents), "feeding": sorted(v.feeding)}


def main() -> None:
    out: dict[str, Any] = {
        "about": "The step model, as frontend/src/steps.ts (stepState) with "
        "frontend/src/url-state.ts (stepIndex, stepProblem) and backend/gradtrace/render.py "
        "(step_view, step_index) count it: per record, each step spec's index (or, for a step "
        "the record lacks, the server's error message; the page clamps it to `clamped`), and "
        "the state at every index (sets as sorted lists). Checked by tests/test_vectors.py and "
        "frontend/tests/vectors.test.ts; written by tests/vectors/make_steps.py.",
        "records": [],
    }
    for expr, values, options in CASES:
        t = dict(trace(expr, values, **options))
        t = json.loads(json.dumps(t))
        rec = record(t)
        f, b = len(rec["forward"]), len(rec["backward"])
        total = f + b
        specs: list[dict[str, Any]] = []
        for spec in ["start", "end", "backward", "f1", f"f{f}", "b1", f"b{b}", f"f{f + 1}", "f0",
                     f"b{b + 1}", "b0", "x1", "fb1", "f", "B2", " end "]:
            if any(s["spec"] == spec for s in specs):
                continue
            try:
                specs.append({"spec": spec, "index": step_index(rec, spec)})
            except GradtraceError as err:
                entry: dict[str, Any] = {"spec": spec, "error": err.message}
                text = spec.strip().lower()
                if text[:1] in ("f", "b") and text[1:].isdigit():
                    k = int(text[1:])
                    at = k - 1 if text[0] == "f" else f + k - 1
                    entry["clamped"] = max(0, min(total - 1, at))
                specs.append(entry)
        out["records"].append({"record": rec, "specs": specs,
                               "states": [state(rec, i) for i in range(total)]})
    text = json.dumps(out, ensure_ascii=False, indent=1)
    Path(__file__).with_name("steps.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

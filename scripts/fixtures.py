"""Trace the frontend's test fixtures again (frontend/tests/fixtures/*.json), so that they are
records as the backend writes them now (after a change of the record's schema), and write what the
backend says of them in words (frontend/tests/fixtures/words/narration.json).

    .venv/bin/python scripts/fixtures.py          # (re)write the fixtures and their words
    .venv/bin/python scripts/fixtures.py --words  # write the words only (scripts/test.sh, first)
    .venv/bin/python scripts/fixtures.py --check  # exit 1, naming the files, if any drifted

The words are not kept in git (a large file that says again what describe.py says): scripts/test.sh
writes them before Vitest runs, so that the app is always compared with the server as it is now.

Each fixture is traced from what it says it is: its expression, its inputs' values, its output
gradient, its mode (with wrt and tangent) and its opened gates.

The words (describe.py, the server's; frontend/src/narrate.ts, the app's) are written once per
language: narration.json holds the server's texts for every fixture at every step (the narration,
brief and full; the view's title and text; every node at the first, the first backward and the
last step, the step's node at every step), every op in words and a range of numbers said aloud,
and frontend/tests/narrate.test.ts checks the app says the same. tests/test_describe.py fails
when a fixture drifts from the backend.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "frontend" / "tests" / "fixtures"
WORDS = FIXTURES / "words" / "narration.json"
FIX = ".venv/bin/python scripts/fixtures.py"
if str(ROOT / "backend") not in sys.path:
    sys.path.append(str(ROOT / "backend"))

# Numbers said aloud: signs, the 4 significant digits, both sides of the switch to exponents,
# rounding at the edges, the non-finite ones.
NUMBERS: list[float] = [
    0.0, -0.0, 1.0, -4.0, 0.25, 0.7310585786300049, -0.19661193324148188, 1 / 3, 2 / 3,
    0.1 + 0.2, 9.99995, 12345.678, 99999.5, 100000.0, 123456789.0, -0.001, 0.00099999, 1.5e-5,
    -2.5e-7, 1.5e12, 1e21, -3e300, 5e-324, math.inf, -math.inf, math.nan,
]


def _dump(data: Any) -> str:
    return json.dumps(data, indent=4, ensure_ascii=False) + "\n"


def trace_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def retrace(old: dict[str, Any]) -> dict[str, Any]:
    """The fixture's record as the backend writes it now."""
    from gradtrace import trace

    values = {n["label"]: n["value"] for n in old["nodes"] if n["kind"] == "input"}
    forward = old.get("mode") == "forward"
    return dict(trace(old["expr"], values, seed=old["seed"],
                      mode="forward" if forward else "reverse",
                      wrt=old.get("wrt"), tangent=old.get("tangent"),
                      expand=[g["id"] for g in old.get("open_gates", [])]))


def _op_cases() -> list[dict[str, Any]]:
    """Every op of the registry applied to operands a, b, c (its arity), in words; the ops with
    another number of operands too, and indexing of one entry."""
    import gradtrace.engine  # noqa: F401  (registers every op)
    from gradtrace.describe import op_phrase
    from gradtrace.ops import catalogue

    cases: list[tuple[str, list[str], bool]] = []
    for op, info in sorted(catalogue().items()):
        args = list("abc")[: info["arity"]]
        cases.append((op, args, False))
        cases.append((op, [*args, "d"], False))
    cases += [("index", ["x"], True), ("index", ["s", "y"], True), ("sum", [], False),
              ("my_function", ["u", "v"], False), ("concat", ["p", "q", "r", "s"], False)]
    return [{"op": op, "args": args, "scalar": scalar, "said": op_phrase(op, args, scalar)}
            for op, args, scalar in cases]


def words(traces: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the backend says of each trace, step by step (describe.py)."""
    from gradtrace.codec import encode_number
    from gradtrace.describe import describe_node, describe_view, narrate_step, spoken_number
    from gradtrace.render import step_view

    said: dict[str, Any] = {}
    for name, record in traces.items():
        total = len(record["forward"]) + len(record["backward"])
        every_node = {0, len(record["forward"]) if record["backward"] else 0, total - 1}
        steps = []
        for i in range(total):
            view = step_view(record, i)
            title, text = describe_view(record, view)
            ids = [n["id"] for n in record["nodes"]] if i in every_node else \
                [view.current] if view.current is not None else []
            steps.append({
                "index": i, "full": narrate_step(record, view, "full"),
                "brief": narrate_step(record, view, "brief"), "title": title, "text": text,
                "nodes": {k: {"full": describe_node(record, view, k, "full"),
                              "brief": describe_node(record, view, k, "brief")} for k in ids}})
        said[name] = steps
    return {
        "about": "What the backend says (backend/gradtrace/describe.py) of each fixture trace, "
                 "written by scripts/fixtures.py; frontend/tests/narrate.test.ts checks that "
                 "frontend/src/narrate.ts says the same.",
        "numbers": [{"x": encode_number(x), "said": spoken_number(x)} for x in NUMBERS],
        "ops": _op_cases(),
        "traces": said,
    }


def texts(with_words: bool = True) -> dict[Path, str]:
    """Every file this script writes, with the text it writes (the fixtures kept in git, and,
    with `with_words`, their words)."""
    out: dict[Path, str] = {}
    traces: dict[str, dict[str, Any]] = {}
    for path in trace_files():
        record = retrace(json.loads(path.read_text(encoding="utf-8")))
        out[path] = _dump(record)
        # As the API sends it (the app reads that): non-finite numbers spelled out.
        traces[path.stem] = json.loads(out[path])
    if with_words:
        out[WORDS] = _dump(words(traces))
    return out


def drifted(files: dict[Path, str]) -> list[Path]:
    return [p for p, text in files.items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a fixture drifted")
    parser.add_argument("--words", action="store_true",
                        help="write the words of the fixtures as they are (not the fixtures)")
    args = parser.parse_args()
    files = texts(with_words=not args.check)
    if args.words:
        files = {WORDS: files[WORDS]}
    if args.check:
        stale = drifted(files)
        for p in stale:
            print(f"{p.relative_to(ROOT)} is not what the backend writes now: run {FIX}")
        sys.exit(1 if stale else 0)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()

"""Trace the frontend's test fixtures again (frontend/tests/fixtures/*.json), so that they are
records as the backend writes them now (after a change of the record's schema).

    .venv/bin/python scripts/fixtures.py

Each fixture is traced from what it says it is: its expression, its inputs' values, its output
gradient, its mode (with wrt and tangent) and its opened gates."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "frontend" / "tests" / "fixtures"
if str(ROOT / "backend") not in sys.path:
    sys.path.append(str(ROOT / "backend"))


def main() -> None:
    from gradtrace import trace

    for path in sorted(FIXTURES.glob("*.json")):
        old = json.loads(path.read_text(encoding="utf-8"))
        values = {n["label"]: n["value"] for n in old["nodes"] if n["kind"] == "input"}
        forward = old.get("mode") == "forward"
        new = dict(trace(old["expr"], values, seed=old["seed"],
                         mode="forward" if forward else "reverse",
                         wrt=old.get("wrt"), tangent=old.get("tangent"),
                         expand=[g["id"] for g in old.get("open_gates", [])]))
        path.write_text(json.dumps(new, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()

"""Write the files generated from the backend's one definition of the record, or check them.

The schema (gradtrace.schema, read by pydantic) and the op registry (gradtrace.ops) are the single
definition; everything in frontend/src/generated/ is derived from them and committed:

- openapi.json: the FastAPI app's OpenAPI document (`create_app().openapi()`);
- ops.json: every op as data (`gradtrace.ops.catalogue()`);
- language.json: the language's own names: its functions (the registry's, and grad) and its
  constants;
- api-types.ts: TypeScript types of openapi.json, by the npm package openapi-typescript
  (`npm run generate:types` in frontend/ runs the same command).

    .venv/bin/python scripts/generate.py          # (re)write the four files
    .venv/bin/python scripts/generate.py --check  # exit 1, naming the files, if any drifted

The output is deterministic (sorted keys, indent 2, a trailing newline), so a diff of these files
is a diff of the schema. tests/test_generated.py runs the same check.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
GENERATED = FRONTEND / "src" / "generated"
OPENAPI = "openapi.json"
OPS = "ops.json"
LANGUAGE = "language.json"
TYPES = "api-types.ts"
FILES = (OPENAPI, OPS, LANGUAGE, TYPES)
FIX = ".venv/bin/python scripts/generate.py"

if str(ROOT / "backend") not in sys.path:  # a checkout without `pip install -e .`: last resort
    sys.path.append(str(ROOT / "backend"))


def dump(data: Any) -> str:
    """JSON as the generated files hold it: sorted keys, indent 2, a trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def openapi_text() -> str:
    from gradtrace.api import create_app

    return dump(create_app().openapi())


def ops_text() -> str:
    import gradtrace.engine  # noqa: F401  (registers every op)
    from gradtrace.ops import catalogue

    return dump(catalogue())


def language_text() -> str:
    from gradtrace.engine import LANGUAGE_FUNCTIONS
    from gradtrace.ops import CONSTANTS

    return dump({"functions": sorted(LANGUAGE_FUNCTIONS), "constants": CONSTANTS})


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def run_openapi_typescript(openapi: Path, out: Path) -> None:
    """openapi-typescript (the devDependency pinned in frontend/package.json) on `openapi`."""
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("generate: npx not found; install Node.js and run `npm ci` in frontend/")
    if not (FRONTEND / "node_modules" / ".bin" / "openapi-typescript").exists():
        raise SystemExit("generate: openapi-typescript is not installed; run `npm ci` in "
                         "frontend/")
    cmd = [npx, "--no-install", "openapi-typescript", str(openapi), "-o", str(out)]
    done = subprocess.run(cmd, cwd=FRONTEND, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"generate: openapi-typescript failed ({done.returncode}):\n"
                         f"{done.stdout}{done.stderr}")


def types_text(openapi: str) -> str:
    """api-types.ts for the text of an openapi.json, generated in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="gradtrace-generate-") as tmp:
        src = Path(tmp) / OPENAPI
        out = Path(tmp) / TYPES
        write(src, openapi)
        run_openapi_typescript(src, out)
        return out.read_text(encoding="utf-8")


def generate_all() -> dict[str, str]:
    """Every generated file's name and text, as they should be committed."""
    openapi = openapi_text()
    return {OPENAPI: openapi, OPS: ops_text(), LANGUAGE: language_text(),
            TYPES: types_text(openapi)}


def drifted(expected: dict[str, str], directory: Path = GENERATED) -> list[str]:
    """The names in `expected` whose file in `directory` is missing or differs."""
    out = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


def drift_message(names: list[str]) -> str:
    paths = ", ".join(str((GENERATED / n).relative_to(ROOT)) for n in names)
    return (f"generated files out of date: {paths}\n"
            f"the schema (gradtrace.schema / gradtrace.ops) changed without them; "
            f"regenerate with `{FIX}` and commit the result")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory and exit 1 if any "
                        "committed file differs")
    args = parser.parse_args(argv)
    expected = generate_all()
    if args.check:
        names = drifted(expected)
        if names:
            print(drift_message(names), file=sys.stderr)
            return 1
        print(f"generate: {', '.join(FILES)} are up to date")
        return 0
    GENERATED.mkdir(parents=True, exist_ok=True)
    for name, text in expected.items():
        write(GENERATED / name, text)
        print(f"generate: wrote {(GENERATED / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

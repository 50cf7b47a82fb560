#!/usr/bin/env bash
# Every test of gradtrace, after the set-up: lint (ruff), types (mypy), the Python suite (unit,
# property-based, API against a real uvicorn on loopback), and the frontend's unit tests (Vitest)
# and end-to-end tests (Playwright driving Debian's chromium against the real server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"
ruff check backend tests bench
echo "== mypy"
mypy
if [ -f frontend/package.json ]; then
  echo "== frontend: typecheck and unit tests"
  # What the server says of the fixtures, which the app must say too (narrate.test.ts).
  python scripts/fixtures.py --words
  (cd frontend && npm run --silent typecheck && npm run --silent test)
fi
echo "== pytest"
pytest "$@"

"""The committed generated files (frontend/src/generated/) match the schema they come from.

The schema (gradtrace.schema) and the op registry are the one definition of the record and the
ops; openapi.json, ops.json, language.json and the TypeScript types derived from them are
committed so that the frontend builds without a Python environment. A schema that gains a field
without a regeneration fails here, with the command that fixes it
(`.venv/bin/python scripts/generate.py`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import load_script, unavailable

ROOT = Path(__file__).resolve().parents[1]


gen = load_script("generate")


def assert_current(name: str, text: str) -> None:
    assert not gen.drifted({name: text}), gen.drift_message([name])


def test_openapi_json_is_current() -> None:
    assert_current(gen.OPENAPI, gen.openapi_text())


def test_ops_json_is_current() -> None:
    assert_current(gen.OPS, gen.ops_text())


def test_language_json_is_current() -> None:
    assert_current(gen.LANGUAGE, gen.language_text())


@pytest.mark.slow
def test_api_types_ts_is_current() -> None:
    if shutil.which("npx") is None or not (gen.FRONTEND / "node_modules").is_dir():
        unavailable("the frontend's npm packages are not installed (cd frontend && npm ci)")
    # From the current schema, not the committed openapi.json: a stale pair fails here too.
    assert_current(gen.TYPES, gen.types_text(gen.openapi_text()))

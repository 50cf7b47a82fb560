"""The committed generated files (frontend/src/generated/) match the schema they come from.

The schema (gradtrace.schema) and the op registry are the one definition of the record and the
ops; openapi.json, ops.json, language.json and the TypeScript types derived from them are
committed so that the frontend builds without a Python environment. A schema that gains a field
without a regeneration fails here, with the command that fixes it
(`.venv/bin/python scripts/generate.py`).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .helpers import unavailable

ROOT = Path(__file__).resolve().parents[1]


def load_generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gradtrace_generate",
                                                  ROOT / "scripts" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = load_generate()


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

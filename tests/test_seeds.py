"""Every worked example of the lecture notes (backend/gradtrace/data/seed_examples.json) comes
out right, through `gradtrace.trace` and through a real server's `POST /api/trace`, to 1e-9
relative."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from gradtrace import decode, trace

from .conftest import SEEDS

RTOL = 1e-9


def check(record: dict[str, Any], example: dict[str, Any]) -> None:
    np.testing.assert_allclose(decode(record["value"]), np.asarray(example["output"]), rtol=RTOL)
    assert set(record["gradients"]) == set(example["gradients"])
    for name, expected in example["gradients"].items():
        np.testing.assert_allclose(decode(record["gradients"][name]), np.asarray(expected),
                                   rtol=RTOL, atol=1e-15, err_msg=f"gradient of {name}")
    assert record["warnings"] == []


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_seed_example_in_process(example: dict[str, Any]) -> None:
    check(trace(example["expr"], example["values"], example.get("seed")), example)


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_seed_example_over_http(server: str, example: dict[str, Any]) -> None:
    body = {"expr": example["expr"], "values": example["values"]}
    if "seed" in example:
        body["seed"] = example["seed"]
    r = httpx.post(f"{server}/api/trace", json=body, timeout=30)
    assert r.status_code == 200, r.text
    check(r.json(), example)


def test_every_seed_example_is_covered() -> None:
    assert len(SEEDS) >= 16
    assert len({s["key"] for s in SEEDS}) == len(SEEDS)


def test_presets_shipped_with_the_app_are_the_seed_examples(client: Any) -> None:
    r = client.get("/api/presets")
    assert r.status_code == 200
    assert r.json() == SEEDS

"""One pipeline (analysis.py): a request is parsed and traced once, whatever it asks for, and the
work can be cancelled."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from gradtrace import parser, trace
from gradtrace.analysis import analyse, request
from gradtrace.cancel import Cancelled, CancelToken
from gradtrace.record import build

CIRCUIT: dict[str, Any] = {"expr": "(x + y) * z", "x": "-2", "y": "5", "z": "-4"}


@pytest.fixture
def tokenizations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the parser tokenizes from now on (a parse tokenizes its text once)."""
    seen: list[str] = []
    real = parser.marked

    def counting(src: str, max_depth: int = parser.DEFAULT_MAX_DEPTH) -> Any:
        seen.append(src)
        return real(src, max_depth)

    monkeypatch.setattr(parser, "marked", counting)
    return seen


def test_a_trace_with_every_extra_parses_once(tokenizations: list[str]) -> None:
    record = trace("sum(W @ x) * y", {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, -1.0], "y": 2.0},
                   check=True, hessian=True)
    assert record["check"]["passed"] and "matrix" in record["hessian"]
    assert len(tokenizations) == 1


@pytest.mark.parametrize("path", ["/api/picture.svg", "/api/standalone.html", "/api/code"])
def test_each_product_of_a_view_parses_once(client: TestClient, tokenizations: list[str],
                                            path: str) -> None:
    r = client.get(f"{path}?" + urlencode({**CIRCUIT, "step": "b2"}))
    assert r.status_code == 200, r.text
    assert tokenizations == ["(x + y) * z"]


def test_a_cancelled_request_stops() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        analyse(request("(x + y) * z", {"x": 1, "y": 2, "z": 3}), cancel=token)


def test_the_check_stops_between_its_passes_when_cancelled() -> None:
    """A check that would run 400 forward passes stops at the first once nobody waits."""
    a = analyse(request("sum(x * x)", {"x": [0.5] * 200}, check=True))
    assert build(a)["check"]["evaluations"] == 400  # within its limits
    a.cancel.cancel()
    with pytest.raises(Cancelled):
        build(a)

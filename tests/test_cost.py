"""The cost a request declares before any pass runs (cost.py): its shape pass agrees with the
forward pass, its extras follow their limits, and a lane's budget refuses what does not fit."""

from __future__ import annotations

from typing import Any

import pytest

from gradtrace.analysis import analyse, request
from gradtrace.cost import Budget, Cost, OverBudget, Seconds, admit, shapes
from gradtrace.settings import Settings

from .conftest import SEEDS


def cost_of(expr: str, values: dict[str, Any], settings: Settings | None = None,
            **extras: bool) -> Cost:
    seen: list[Cost] = []
    analyse(request(expr, values, **extras), settings or Settings(), admit=seen.append)
    return seen[0]


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_the_shape_pass_agrees_with_the_forward_pass(example: dict[str, Any]) -> None:
    a = analyse(request(example["expr"], example["values"], example.get("seed")))
    assert shapes(a.graph, a.inputs) == [v.shape for v in a.values]
    c = cost_of(example["expr"], example["values"])
    assert c.elements == sum(v.size for v in a.values)
    assert c.nodes == len(a.graph.nodes) and c.edges == len(a.graph.edges)
    assert c.structure == a.graph.structure


def test_a_matmul_declares_its_multiply_adds() -> None:
    c = cost_of("sum(A @ B)", {"A": [[1.0] * 3] * 2, "B": [[1.0] * 4] * 3})
    assert c.macs == 2 * 3 * 4


def test_the_check_counts_only_within_its_limits() -> None:
    values = {"x": [0.5] * 50}
    plain = cost_of("sum(x * x)", values)
    checked = cost_of("sum(x * x)", values, check=True)
    assert checked.trace.own > plain.trace.own
    # Past its limits the check answers an error at once: it costs nothing to speak of.
    tight = Settings(max_check_work=10)
    assert cost_of("sum(x * x)", values, tight, check=True).trace == plain.trace


def test_the_hessian_counts_only_within_its_limits() -> None:
    plain = cost_of("x * y * y", {"x": 1.0, "y": 2.0})
    assert cost_of("x * y * y", {"x": 1.0, "y": 2.0}, hessian=True).trace.own > plain.trace.own
    over = cost_of("sum(x * x)", {"x": [1.0] * 100}, hessian=True)  # past max_hessian_elements
    assert over.trace == cost_of("sum(x * x)", {"x": [1.0] * 100}).trace


def test_a_cached_layout_costs_nothing_and_a_png_costs_its_pixels() -> None:
    c = cost_of("(x + y) * z", {"x": 1.0, "y": 2.0, "z": 3.0})
    assert c.layout(cached=True) == Seconds(0.0)
    assert c.layout().tools > 0  # dot, in a process of its own
    assert c.picture("png", 2.0).tools > c.picture("png", 1.0).tools > c.picture("svg").tools


def test_a_budget_refuses_work_over_either_of_its_parts() -> None:
    budget = Budget(own=0.02, tools=0.25)
    admit(Seconds(0.01, 0.2), budget)
    admit(Seconds(5.0, 5.0), None)  # no budget: the heavy lane takes anything
    with pytest.raises(OverBudget):
        admit(Seconds(0.03), budget)
    with pytest.raises(OverBudget):
        admit(Seconds(0.0, 0.3), budget)


def test_a_refused_estimate_stops_the_analysis_before_any_pass() -> None:
    def refuse(c: Cost) -> None:
        raise OverBudget(c.trace)

    with pytest.raises(OverBudget):
        analyse(request("exp(x)", {"x": 1.0}), Settings(), admit=refuse)

"""Pydantic models of every request and response (they are what /docs shows).

Numbers travel as JSON numbers, or as the strings "Infinity", "-Infinity", "NaN"; tensors as
nested lists. Values are validated by the engine rather than by pydantic, so that a bad value gets
an error that names the input and points at it in the expression.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Number = float | Literal["Infinity", "-Infinity", "NaN"]
Tensor = Number | list[Any]


class TraceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expr: str = Field(examples=["(x + y) * z"])
    values: dict[str, Any] = Field(default_factory=dict, examples=[{"x": -2, "y": 5, "z": -4}])
    seed: Any = Field(default=None, description="Output gradient; defaults to ones.")
    mode: Literal["reverse", "forward"] = Field(
        default="reverse",
        description="reverse: the backward pass (all gradients at once); forward: forward-mode "
        "tangents along one input direction.")
    wrt: str | None = Field(
        default=None, examples=["x"],
        description="Forward mode: the input to differentiate along (required there).")
    tangent: Any = Field(
        default=None,
        description="Forward mode: the direction for wrt (a number or a tensor of its shape); "
        "defaults to ones.")


class LayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expr: str
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Only the names matter (a value for pi or e shadows the constant).",
    )


class ErrorBody(BaseModel):
    type: str
    message: str
    start: int
    end: int


class ErrorResponse(BaseModel):
    error: ErrorBody


class NodeOut(BaseModel):
    id: str
    kind: Literal["input", "const", "op"]
    op: str | None
    label: str
    name: str | None
    value: Tensor
    grad: Tensor | None
    shape: list[int]
    start: int
    end: int
    fanout: int
    gate: str | None
    tangent: Tensor | None = Field(
        default=None, description="Forward mode: the node's tangent; null if it does not "
        "depend on wrt. Absent in reverse mode.")


class EdgeOut(BaseModel):
    id: str
    source: str
    target: str
    arg: int
    local: Number | None = Field(description="The local derivative, for scalar edges.")
    local_formula: str
    vjp_formula: str | None = Field(description="The VJP rule used, for tensor edges.")
    downstream: Tensor | None
    broadcast: bool
    tangent: Tensor | None = Field(
        default=None, description="Forward mode: this edge's part of its target's tangent. "
        "Absent in reverse mode.")


class Term(BaseModel):
    edge: str | None = Field(description="The out-edge it came back along; null for the seed.")
    value: Tensor


class Step(BaseModel):
    node: str
    upstream: Tensor
    terms: list[Term]
    edges: list[EdgeOut]


class Warning_(BaseModel):
    type: str
    message: str
    node: str | None
    start: int
    end: int


class TraceResponse(BaseModel):
    expr: str
    mode: Literal["reverse", "forward"]
    wrt: str | None = Field(default=None, description="Forward mode: the input differentiated "
                            "along.")
    tangent: Tensor | None = Field(default=None, description="Forward mode: the input direction.")
    derivative: Tensor | None = Field(
        default=None, description="Forward mode: the output's tangent, the directional "
        "derivative of the output along wrt.")
    output: str
    value: Tensor
    shape: list[int]
    seed: Tensor
    gradients: dict[str, Tensor]
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    forward: list[str]
    backward: list[Step]
    gates: dict[str, str]
    structure: str
    cost: dict[str, str] = Field(description="What a full gradient costs in each mode "
                                 "(keys reverse, forward).")
    warnings: list[Warning_]


class NodeBox(BaseModel):
    x: float
    y: float
    w: float
    h: float
    shape: str


class EdgePath(BaseModel):
    path: str
    arrow: list[float]
    mid: list[float]
    label: list[float] = Field(description="Where the value (above) and gradient (below) go.")
    local: list[float] = Field(description="Where the local derivative goes.")
    source: str
    target: str


class LayoutResponse(BaseModel):
    structure: str
    engine: Literal["dot", "layered"] = Field(
        description="dot, or the linear-time layered layout for graphs too big for dot.")
    provisional: bool = Field(description="A stand-in for a dot run that failed or timed out.")
    width: float
    height: float
    nodes: dict[str, NodeBox]
    edges: dict[str, EdgePath]


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Preset(BaseModel):
    key: str
    source: str
    expr: str
    values: dict[str, Any]
    output: Any
    gradients: dict[str, Any]
    seed: Any = None

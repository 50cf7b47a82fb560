"""The schema, written once: every request and every record the API answers, as pydantic models.

These models are the single definition of the record: record.py builds it from them (unvalidated,
with `model_construct`, since the engine's own output needs no second check), FastAPI writes
`openapi.json` from them, and the frontend's TypeScript types are generated from that
(scripts/generate.py; tests/test_generated.py fails when the committed files drift).

Numbers travel as JSON numbers, or as the strings "Infinity", "-Infinity", "NaN" (codec.py);
tensors as nested lists. Values are validated by the engine rather than by pydantic, so that a bad
value gets an error that names the input and points at it in the expression.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .codec import Number

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
    # Strict: `"check": 0` or `"check": "yes"` is refused (422), not read as a boolean.
    check: bool = Field(
        default=False, strict=True,
        description="Add `check`: each analytic derivative beside its central finite "
        "difference, the relative error and a verdict (2 forward passes per input element, "
        "bounded by max_check_evaluations / max_check_work: past them, `check` holds the error).")
    hessian: bool = Field(
        default=False, strict=True,
        description="Add `hessian`: the second derivatives of a scalar output over the input "
        "numbers (at most max_hessian_elements of them; else, or for a non-scalar output, "
        "`hessian` holds the error).")


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
    origin: Literal["grad"] | None = Field(
        default=None, description="grad: the node was made by a grad(f, x) call (a node of the "
        "gradient graph it builds); null for the nodes the expression writes out.")
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
    jacobian_size: int | None = Field(
        default=None, description="Reverse mode, tensor edges: the number of entries of the "
        "dense Jacobian d target / d source (target numbers x source numbers), never formed "
        "by the engine.")
    jacobian: list[list[Number]] | None = Field(
        default=None, description="Reverse mode, tensor edges with at most max_jacobian_entries "
        "(64) entries: J[i][j] = d target_i / d source_j, both flattened in C order, built from "
        "the op's VJP on unit upstream vectors; upstream (flattened) @ J = downstream.")


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


class Unavailable(BaseModel):
    """An extra of the record (the numeric check, the Hessian) that could not be made for this
    expression, though the trace itself could: over its own limit, or a non-scalar output for the
    Hessian. The trace is answered (200) with this in the extra's place."""

    error: ErrorBody


class InputCheck(BaseModel):
    analytic: Tensor = Field(description="The gradient (reverse) or derivative (forward).")
    numeric: Tensor = Field(description="Its central finite difference.")
    rel_error: Number = Field(description="max |analytic - numeric| / max(|analytic| + "
                              "|numeric|, noise floor) over elements.")
    abs_error: Number
    step: Number = Field(description="The finite-difference step h (the largest, per element).")
    verdict: Literal["pass", "fail", "kink", "nonfinite"] = Field(
        description="kink: they disagree where the step crosses a kink (relu/abs at 0, a "
        "max/min tie), where the derivative does not exist; nonfinite: no verdict.")
    passed: bool
    note: str | None


class Check(BaseModel):
    mode: Literal["reverse", "forward"]
    of: str = Field(description="What is differenced: L = <seed, f(x)>, or f along the tangent.")
    method: str
    tolerance: float
    evaluations: int = Field(description="Forward passes the check ran.")
    passed: bool
    inputs: dict[str, InputCheck]
    notes: list[str]


class Hessian(BaseModel):
    inputs: list[str] = Field(description="The inputs, in order of first use.")
    labels: list[str] = Field(description="One per row and column: x, or W[0,1] for a tensor's "
                              "element (C order).")
    matrix: list[list[Number]] = Field(description="H[i][j] = d^2 f / d v_i d v_j.")
    symmetric: bool = Field(description="H = H^T up to rounding (not at kinks, e.g. of max).")


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
    check: Check | Unavailable | None = Field(
        default=None, description="With check: true, the numeric gradient check, or why it "
        "could not be made (`error`, e.g. over max_check_work). Absent otherwise.")
    hessian: Hessian | Unavailable | None = Field(
        default=None, description="With hessian: true, the Hessian, or why it could not be made "
        "(`error`: a non-scalar output, more than max_hessian_elements input numbers). Absent "
        "otherwise.")


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
    title: str = Field(description="What the example is, in a few words.")
    source: str = Field(description="The lecture notes it comes from.")
    lesson: str = Field(description="What it teaches, in one sentence.")
    expr: str
    values: dict[str, Any]
    output: Any
    gradients: dict[str, Any]
    seed: Any = None

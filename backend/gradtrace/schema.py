"""The schema, written once: every request and every record the API answers, read by pydantic.

These are the single definition of the record: record.py builds it as these types (mypy checks
each dict it writes against them), FastAPI writes `openapi.json` from them through pydantic, and
the frontend's TypeScript types are generated from that (scripts/generate.py;
tests/test_generated.py fails when the committed files drift). Requests are validated models.

Numbers travel as JSON numbers, or as the strings "Infinity", "-Infinity", "NaN" (codec.py);
tensors as nested lists. Values are validated by the engine rather than by pydantic, so that a bad
value gets an error that names the input and points at it in the expression.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config

# pydantic reads TypedDicts from typing_extensions on Python 3.11.
from typing_extensions import TypedDict

from .codec import Number

Tensor = Number | list[Any]

EXPAND_DOC = (
    "Gates to open into their parts (gates.py): a composite op (square, ...) is one node, a "
    "closed gate with its own local derivative, unless its id is listed here. `g<k>` is the gate "
    "that is node n<k> with every gate closed; `<gate>.<p>` is part p (the p-th op of its "
    "composition, from 1) of an opened gate, when that part is a composite itself. Opening a "
    "part opens the gates it lies in. Ids that name no gate are ignored, with a warning.")


RNG_DOC = (
    "The random draw of the values of inputs that neither `values` nor the text gives. Such an "
    "input gets the shape the ops need (inferred: a scalar unless an op needs more; a "
    "capitalised name such as X or W1 prefers a matrix) and a value: 1 for a scalar, 0 for "
    "labels, else numbers from a standard normal distribution drawn by generator `rng` for that "
    "input, rounded to 2 decimals. `reading.inputs` says what each input got.")


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
    expand: list[str] = Field(default_factory=list, examples=[["g3", "g3.2"]],
                              description=EXPAND_DOC)
    rng: int = Field(default=0, ge=0, le=999_999_999, strict=True, description=RNG_DOC)


class LayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expr: str
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Only the names matter (a value for pi or e shadows the constant; and the "
        "shapes, where an opened gate's composition depends on them).",
    )
    expand: list[str] = Field(default_factory=list, examples=[["g3"]], description=EXPAND_DOC)
    direction: Literal["auto", "down", "right"] = Field(
        default="auto",
        description="down: inputs at the top, the output at the bottom; right: inputs on the "
        "left; auto: the one whose drawing best fits `aspect`.")
    aspect: float = Field(
        default=16 / 9, gt=0.05, lt=20,
        description="auto: the width over the height of the space the graph is drawn in.")


class ReadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expr: str
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="The values typed so far: their shapes pin the shapes inferred for the rest.")
    seed: Any = Field(default=None, description="The output gradient typed, if any: its shape "
                      "is the output's, for the shapes inferred (as in POST /api/trace).")
    rng: int = Field(default=0, ge=0, le=999_999_999, strict=True, description=RNG_DOC)


# The record and its parts are TypedDicts: the record is built as plain dicts (no per-object cost
# on a 1,000-node trace, and orjson writes them), while mypy checks every dict record.py writes
# against these definitions and pydantic reads them for the OpenAPI document and in tests.
# `NotRequired` fields are absent, not null, where they do not apply. No other field may appear.
_RECORD = ConfigDict(extra="forbid")


@with_config(_RECORD)
class ErrorBody(TypedDict):
    type: str
    message: str
    start: int
    end: int


@with_config(_RECORD)
class ErrorResponse(TypedDict):
    error: ErrorBody


@with_config(_RECORD)
class NodeOut(TypedDict):
    id: str
    kind: Literal["input", "const", "op"]
    op: str | None
    label: str
    name: str | None
    display: Annotated[str, Field(
        description="The node's one name, on the graph and in the text (naming.py): the user's "
        "name (primed for a name's later values: y′), an input's, a constant's number, an "
        "indexing as written (x[1]), the unnamed output's f, else a letter "
        "(a, b, c, g, ...). The formulas of the record are written in these names.")]
    display_tex: Annotated[str, Field(description="The same name in LaTeX.")]
    value: Tensor
    grad: Tensor | None
    shape: list[int]
    start: int
    end: int
    fanout: int
    gate: str | None
    origin: Annotated[Literal["grad"] | None, Field(
        description="grad: the node was made by a grad(f, x) call (a node of the gradient graph "
        "it builds); null for the nodes the expression writes out.")]
    tangent: NotRequired[Annotated[Tensor | None, Field(
        description="Forward mode: the node's tangent; null if it does not depend on wrt. "
        "Absent in reverse mode.")]]
    gate_id: Annotated[str | None, Field(
        description="A closed gate that can be opened into its parts (a composite op): its id, "
        "for `expand` (g3, g3.2); null for other nodes.")]
    in_gate: Annotated[str | None, Field(
        description="The innermost opened gate this node is a part of (its id); null outside "
        "every opened gate.")]
    labels: Annotated[bool, Field(
        description="An input used only as labels or indices (`y` in cross_entropy(s, y), `s[y]`, "
        "a where's condition): it holds whole numbers (a condition: any numbers), takes no "
        "gradient (`grad` is null, it is absent from `gradients`) and cannot be forward mode's "
        "`wrt`. False for every other node.")]


@with_config(_RECORD)
class GateOut(TypedDict):
    """An opened gate of the view: a composite op drawn as the nodes it is made of."""

    id: Annotated[str, Field(description="Its id, as `expand` lists it.")]
    op: Annotated[str, Field(description="The composite op (square, ...).")]
    parent: Annotated[str | None, Field(
        description="The opened gate it is a part of; null for a gate of the expression itself.")]
    output: Annotated[str, Field(description="The node holding the gate's value.")]
    name: Annotated[str | None, Field(
        description="The name the expression gives the gate's value (q = square(x)), if any.")]
    start: int
    end: int


@with_config(_RECORD)
class EdgeOut(TypedDict):
    id: str
    source: str
    target: str
    arg: int
    local: Annotated[Number | None, Field(description="The local derivative, for scalar edges.")]
    local_formula: str
    vjp_formula: Annotated[str | None, Field(description="The VJP rule used, for tensor edges.")]
    downstream: Tensor | None
    broadcast: bool
    tangent: NotRequired[Annotated[Tensor | None, Field(
        description="Forward mode: this edge's part of its target's tangent. Absent in reverse "
        "mode.")]]
    jacobian_size: NotRequired[Annotated[int, Field(
        description="Reverse mode, tensor edges: the number of entries of the dense Jacobian "
        "d target / d source (target numbers x source numbers), never formed by the engine.")]]
    jacobian: NotRequired[Annotated[list[list[Number]] | None, Field(
        description="Reverse mode, tensor edges: with at most max_jacobian_entries (64) entries, "
        "J[i][j] = d target_i / d source_j, both flattened in C order, built from the op's VJP on "
        "unit upstream vectors (upstream (flattened) @ J = downstream); null when larger.")]]


@with_config(_RECORD)
class Term(TypedDict):
    edge: Annotated[str | None, Field(
        description="The out-edge it came back along; null for the seed.")]
    value: Tensor


@with_config(_RECORD)
class Step(TypedDict):
    node: str
    upstream: Tensor
    terms: list[Term]
    edges: list[EdgeOut]


@with_config(_RECORD)
class Warning_(TypedDict):
    type: str
    message: str
    node: str | None
    start: int
    end: int


@with_config(_RECORD)
class Unavailable(TypedDict):
    """An extra of the record (the numeric check, the Hessian) that could not be made for this
    expression, though the trace itself could: over its own limit, or a non-scalar output for the
    Hessian. The trace is answered (200) with this in the extra's place."""

    error: ErrorBody


Verdict = Literal["pass", "fail", "kink", "nonfinite"]


@with_config(_RECORD)
class InputCheck(TypedDict):
    analytic: Annotated[Tensor, Field(
        description="The gradient (reverse) or derivative (forward).")]
    numeric: Annotated[Tensor, Field(description="Its central finite difference.")]
    rel_error: Annotated[Number, Field(
        description="max |analytic - numeric| / max(|analytic| + |numeric|, noise floor) over "
        "elements.")]
    abs_error: Number
    step: Annotated[Number, Field(
        description="The finite-difference step h (the largest, per element).")]
    verdict: Annotated[Verdict, Field(
        description="kink: they disagree where the step crosses a kink (relu/abs at 0, a max/min "
        "tie), where the derivative does not exist; nonfinite: no verdict.")]
    passed: bool
    note: str | None


@with_config(_RECORD)
class Check(TypedDict):
    mode: Literal["reverse", "forward"]
    of: Annotated[str, Field(
        description="What is differenced: L = <seed, f(x)>, or f along the tangent.")]
    method: str
    tolerance: float
    evaluations: Annotated[int, Field(description="Forward passes the check ran.")]
    passed: bool
    inputs: dict[str, InputCheck]
    notes: list[str]


@with_config(_RECORD)
class Hessian(TypedDict):
    inputs: Annotated[list[str], Field(description="The inputs, in order of first use.")]
    labels: Annotated[list[str], Field(
        description="One per row and column: x, or W[0,1] for a tensor's element (C order).")]
    matrix: Annotated[list[list[Number]], Field(description="H[i][j] = d^2 f / d v_i d v_j.")]
    symmetric: Annotated[bool, Field(
        description="H = H^T up to rounding (not at kinks, e.g. of max).")]


@with_config(_RECORD)
class Skip(TypedDict):
    start: int
    end: int
    reason: Annotated[str, Field(description="Why the line is skipped (`prints`).")]


@with_config(_RECORD)
class InputRead(TypedDict):
    name: str
    value: Annotated[Tensor | None, Field(
        description="The value the text gives it (a value line `x = np.array(...)`, a def's "
        "default), used unless the request gives one; null if the text gives none.")]
    labels: Annotated[bool, Field(description="Used only as labels or indices: no gradient.")]
    start: int
    end: int
    shape: Annotated[list[int], Field(
        description="The shape the trace gives it: its value's (the request's, else the "
        "text's), else the one inferred from the ops.")]
    source: Annotated[Literal["request", "text", "drawn"], Field(
        description="Where its value comes from: the request's values, the text, or drawn "
        "(`rng`): then `drawn` holds it.")]
    drawn: Annotated[Tensor | None, Field(
        description="The value drawn for it when neither the request nor the text gives one "
        "(see `rng`); null otherwise.")]


@with_config(_RECORD)
class Reading(TypedDict):
    """How the text was read (README, "Pasting from a lecture")."""

    canonical: Annotated[str, Field(
        description="The program as gradtrace read it, in its own language.")]
    latex: Annotated[str, Field(description="The same program in LaTeX.")]
    differs: Annotated[bool, Field(
        description="The reading is not the text as typed (a product written by juxtaposition, "
        "LaTeX, a library's spelling, a skipped line): the app shows it as \"read as\".")]
    inputs: Annotated[list[InputRead], Field(description="The inputs, in order of first use.")]
    seed: Annotated[Tensor | None, Field(
        description="The output gradient the text gives (`L.backward(dz)`, "
        "`output_gradients=dz`), used unless the request gives one.")]
    skipped: Annotated[list[Skip], Field(description="Lines that compute nothing, with why.")]


@with_config(_RECORD)
class ReadResponse(TypedDict):
    reading: Reading
    warnings: list[Warning_]


@with_config(_RECORD)
class TraceResponse(TypedDict):
    expr: str
    mode: Literal["reverse", "forward"]
    wrt: NotRequired[Annotated[str, Field(
        description="Forward mode: the input differentiated along.")]]
    tangent: NotRequired[Annotated[Tensor, Field(
        description="Forward mode: the input direction.")]]
    derivative: NotRequired[Annotated[Tensor, Field(
        description="Forward mode: the output's tangent, the directional derivative of the "
        "output along wrt.")]]
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
    open_gates: Annotated[list[GateOut], Field(
        description="The gates opened in this view (what `expand` opened, parents first); the "
        "nodes inside each say so in `in_gate`.")]
    structure: str
    cost: Annotated[dict[str, str], Field(
        description="What a full gradient costs in each mode (keys reverse, forward).")]
    warnings: list[Warning_]
    reading: Reading
    check: NotRequired[Annotated[Check | Unavailable, Field(
        description="With check: true, the numeric gradient check, or why it could not be made "
        "(`error`, e.g. over max_check_work). Absent otherwise.")]]
    hessian: NotRequired[Annotated[Hessian | Unavailable, Field(
        description="With hessian: true, the Hessian, or why it could not be made (`error`: a "
        "non-scalar output, more than max_hessian_elements input numbers). Absent otherwise.")]]


@with_config(_RECORD)
class DescribeStep(TypedDict):
    """The step described, and what it did in words and numbers (the app's live region says the
    same)."""

    index: Annotated[int, Field(description="The step's index over both passes, from 0.")]
    phase: Literal["forward", "backward"]
    k: Annotated[int, Field(description="The step's number within its pass, from 1.")]
    n: Annotated[int, Field(description="The number of steps of its pass.")]
    node: Annotated[str | None, Field(description="The id of the step's node.")]
    narration_brief: Annotated[str, Field(
        description="The step in few words: \"Backward 3 of 5: q, upstream minus 4; x gets minus "
        "4, y gets minus 4.\"")]
    narration_full: Annotated[str, Field(
        description="The step in sentences: what the node computes, its value (forward), the "
        "upstream gradient it receives and, per operand, the local derivative and what the "
        "operand receives (backward), or its tangent and each operand's part of it (forward "
        "mode).")]


@with_config(_RECORD)
class DescribeNode(TypedDict):
    """A node as known at the step (what the app says when its read key is pressed on it)."""

    id: str
    name: Annotated[str, Field(description="Its one name (the record's `display`).")]
    kind: Literal["input", "const", "op"]
    full: Annotated[str, Field(
        description="What it computes, its value, gradient (or tangent) if known at the step, "
        "and each operand and user with the local derivative and the gradient the edge carries.")]
    brief: Annotated[str, Field(description="The same in few words.")]


@with_config(_RECORD)
class DescribeResponse(TypedDict):
    """GET /api/describe: the view in words, for alt text (an LMS, a slide) and screen readers.
    Numbers are said as the graph writes them (4 significant digits) in words a screen reader
    reads and a program parses: "minus 4", "1.5 times 10 to the minus 5", "not a number"; a
    tensor of at most 6 numbers in full (a matrix row by row, rows apart by "; "), a larger one by
    its shape and range."""

    title: Annotated[str, Field(
        description="The expression and the step: \"(x + y) * z (backward step 3 of 5)\"; the "
        "pictures' <title>.")]
    text: Annotated[str, Field(
        description="The graph (its nodes, inputs and output) and the step (narration_full); the "
        "pictures' <desc>.")]
    step: DescribeStep
    nodes: Annotated[list[DescribeNode], Field(description="Every node, in the record's order.")]


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


class ClusterBox(BaseModel):
    """The box around an opened gate's parts (a Graphviz cluster): centre, size, the gate's op."""

    x: float
    y: float
    w: float
    h: float
    label: str = Field(description="The opened gate's op (square, ...).")
    parent: str | None = Field(description="The opened gate whose box holds this one.")


class LayoutResponse(BaseModel):
    structure: str
    engine: Literal["dot", "layered"] = Field(
        description="dot, or the linear-time layered layout for graphs too big for dot.")
    provisional: bool = Field(description="A stand-in for a dot run that failed or timed out.")
    width: float
    height: float
    nodes: dict[str, NodeBox]
    edges: dict[str, EdgePath]
    clusters: dict[str, ClusterBox] = Field(
        description="Per opened gate (by its id), the box around its parts; {} with every gate "
        "closed.")
    direction: Literal["down", "right"] = Field(
        description="The direction drawn: down (inputs at the top) or right (inputs on the left).")


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


# The record's validator, for tests and clients in Python (the server never validates its own).
RECORD = TypeAdapter(TraceResponse)

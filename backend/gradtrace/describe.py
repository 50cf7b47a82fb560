"""A view in words: each step narrated in words and numbers, a node as known at a step, and the
view's text alternative (the pictures' <title> and <desc>, GET /api/describe).

The words are the app's (frontend/src/narrate.ts), from the same record (the trace as the API
answers it) and the same step model (render.py `step_view`, as frontend/src/steps.ts counts the
steps): scripts/fixtures.py writes these texts for every fixture trace at every step, and the
frontend's tests check that narrate.ts says them character for character. A change here is a
change there.

Numbers are said as the graph writes them (render.py `format_number`: 4 significant digits) with
"minus" for the sign and "times 10 to the" for an exponent, so that a screen reader reads them and
a test parses them back. A tensor of at most SAID_MAX numbers is said in full, row by row; a larger
one by its shape and its smallest and largest number (the app's table view lists them all).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .codec import decode_number
from .render import MINUS, StepView, _shape, format_number, step_index, step_view
from .schema import DescribeNode, DescribeResponse, DescribeStep

Verbosity = Literal["brief", "full"]
Record = Mapping[str, Any]

SAID_MAX = 6  # a tensor of at most this many numbers is said in full
LIST_MAX = 8  # operands, uses and inputs said one by one; the rest are counted
TITLE_EXPR_MAX = 120  # characters of the expression in the view's title

TABLE = "The table view lists every number."
SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def spoken_number(x: Any) -> str:
    """A number as read aloud: "minus 4", "0.25", "1.5 times 10 to the minus 5", "infinity",
    "not a number" (narrate.ts `spokenNumber`)."""
    s = format_number(x, 4).replace(MINUS, "-")
    if s == "NaN":
        return "not a number"
    if s == "∞":
        return "infinity"
    if s == "-∞":
        return "minus infinity"
    m = re.fullmatch(r"(-?)([^e]+)(?:e(-?)(\d+))?", s)
    if m is None:
        return s
    power = "" if m.group(4) is None else \
        f" times 10 to the {'minus ' if m.group(3) else ''}{m.group(4)}"
    return f"{'minus ' if m.group(1) else ''}{m.group(2)}{power}"


def word_list(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _plural(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def _flat(t: Any) -> list[float]:
    if isinstance(t, list):
        return [y for x in t for y in _flat(x)]
    return [decode_number(t)]


def shape_phrase(shape: Sequence[int]) -> str:
    """"a vector of 3 numbers", "a 2 by 3 matrix", "a 2 by 3 by 4 tensor"."""
    if not shape:
        return "a number"
    if len(shape) == 1:
        return f"a vector of {_plural(shape[0], 'number', 'numbers')}"
    return f"a {' by '.join(str(d) for d in shape)} {'matrix' if len(shape) == 2 else 'tensor'}"


class _Speaker:
    """What one text says, and whether it summed up a tensor too large to say in full."""

    def __init__(self, verbosity: Verbosity) -> None:
        self.verbosity = verbosity
        self.summarised = False

    def value(self, t: Any) -> str:
        if not isinstance(t, list):
            return spoken_number(t)
        shape = _shape(t)
        flat = _flat(t)
        head = shape_phrase(shape)
        if not flat:
            return f"{head}, with no numbers"
        if len(flat) <= SAID_MAX:
            if len(shape) == 2:
                said = "; ".join(", ".join(spoken_number(x) for x in row) for row in t)
            else:
                said = ", ".join(spoken_number(x) for x in flat)
            return f"{head}: {said}"
        self.summarised = True
        if self.verbosity == "brief":
            return head
        count = head if len(shape) == 1 else f"{head} of {len(flat)} numbers"
        numbers = [x for x in flat if not math.isnan(x)]
        nan = len(flat) - len(numbers)
        if not numbers:
            return f"{count}, none of them a number"
        lo, hi = min(numbers), max(numbers)
        if not nan and lo == hi:
            return f"{count}, all {spoken_number(lo)}"
        said = f"{count}, from {spoken_number(lo)} to {spoken_number(hi)}"
        return f"{said}, and {nan} not a number" if nan else said

    def after(self, t: Any) -> str:
        """A value after a noun: " minus 4"; ", a 2 by 3 matrix: ..." for a tensor."""
        return f", {self.value(t)}" if isinstance(t, list) else f" {self.value(t)}"

    def end(self, text: str) -> str:
        return f"{text} {TABLE}" if self.summarised and self.verbosity == "full" else text


# Ops in words (narrate.ts OPERATOR_WORDS, PLAIN_WORDS; the fixtures check the two are equal).
OPERATOR_WORDS = {
    "add": "{0} plus {1}",
    "sub": "{0} minus {1}",
    "mul": "{0} times {1}",
    "div": "{0} divided by {1}",
    "pow": "{0} to the power {1}",
    "matmul": "the matrix product of {0} and {1}",
    "neg": "minus {0}",
    "gt": "whether {0} is greater than {1}",
    "lt": "whether {0} is less than {1}",
    "ge": "whether {0} is at least {1}",
    "le": "whether {0} is at most {1}",
    "eq": "whether {0} equals {1}",
    "ne": "whether {0} differs from {1}",
}

PLAIN_WORDS = {
    "setitem": "index assignment",
    "index": "index",
    "amax_share": "share of the max",
    "amin_share": "share of the min",
    "max_share": "share of the max",
    "min_share": "share of the min",
    "avg_pool2d_dx": "avg-pool gradient",
    "broadcast_like": "broadcast",
    "class_mask": "one-hot",
    "concat_part": "block",
    "conv2d_dw": "conv2d kernel gradient",
    "conv2d_dx": "conv2d input gradient",
    "count": "count",
    "index_put_add": "add at the indices",
    "masked": "masked product",
    "matmul_da": "matmul gradient (left)",
    "matmul_db": "matmul gradient (right)",
    "max_pool2d_dx": "max-pool gradient",
    "max_pool2d_gather": "max-pool gather",
    "nonzero": "mask",
    "pow_exp_mask": "mask",
    "reduced_count": "count",
    "relu_mask": "relu mask",
    "reshape_like": "reshape",
    "rowsum": "row sum",
    "sum_to": "sum over broadcast axes",
    "unreduce": "broadcast back",
    "zeros_like": "zeros",
}


def op_phrase(op: str, args: Sequence[str], scalar: bool = False) -> str:
    """An op applied to operands (their names), in words: "x plus y", "exp of a"."""
    pattern = OPERATOR_WORDS.get(op)
    if pattern is not None and len(re.findall(r"\{\d\}", pattern)) == len(args):
        return re.sub(r"\{(\d)\}", lambda m: args[int(m.group(1))], pattern)
    if op == "index" and args:
        what = f"{'an entry' if scalar else 'entries'} of {args[0]}"
        return f"{what} picked by {word_list(args[1:])}" if len(args) > 1 else what
    if op == "setitem" and len(args) >= 2:
        return f"{args[0]} with entries replaced by {args[1]}"
    word = PLAIN_WORDS.get(op, op).replace("_", " ")
    return f"{word} of {word_list(args)}" if args else word


class _View:
    """The record, indexed once."""

    def __init__(self, trace: Record) -> None:
        self.trace = trace
        self.nodes: dict[str, Mapping[str, Any]] = {n["id"]: n for n in trace["nodes"]}
        self.steps: dict[str, Mapping[str, Any]] = {s["node"]: s for s in trace["backward"]}
        self.forward_mode = trace.get("mode") == "forward"
        self.wrt = str(trace.get("wrt") or "x")
        # Each node's wires in and out, found once (a text per node must not scan every wire).
        self.ins: dict[str, list[Mapping[str, Any]]] = {}
        self.outs: dict[str, list[Mapping[str, Any]]] = {}
        for e in trace["edges"]:
            self.ins.setdefault(e["target"], []).append(e)
            self.outs.setdefault(e["source"], []).append(e)
        for wires in self.ins.values():
            wires.sort(key=lambda e: int(e["arg"]))

    def name(self, node_id: str) -> str:
        """The node's one name, its subscript digits as plain digits (u₃₉ is said "u39": a
        screen reader reads subscript digits one by one, or not at all)."""
        n = self.nodes.get(node_id)
        return node_id if n is None else str(n.get("display") or n["label"]).translate(SUBSCRIPTS)

    def into(self, node_id: str) -> list[Mapping[str, Any]]:
        return self.ins.get(node_id, [])

    def formula(self, node: Mapping[str, Any]) -> str:
        args = [self.name(e["source"]) for e in self.into(node["id"])]
        if len(args) > LIST_MAX:
            args = [*args[:LIST_MAX], f"{len(args) - LIST_MAX} more"]
        return op_phrase(node["op"] or "op", args, not isinstance(node["value"], list))

    def gate_op(self, gate: str) -> str:
        """The op of an opened gate, as it is called ("cross entropy")."""
        return next((str(g["op"]) for g in self.trace.get("open_gates", []) if g["id"] == gate),
                    "gate").replace("_", " ")

    def part_of(self, node: Mapping[str, Any]) -> str:
        """Where a node comes from, in full: a part of an opened gate, of what grad() built."""
        text = f" It is a part of the opened gate {self.gate_op(node['in_gate'])}." \
            if node.get("in_gate") else ""
        return text + " It is built by grad." if node.get("origin") == "grad" else text

    def label_role(self, node: Mapping[str, Any]) -> Literal["labels", "condition"] | None:
        """node-words.ts `labelRole`: an input of labels, or a where's condition."""
        if not node.get("labels"):
            return None
        uses = self.outs.get(node["id"], [])
        condition = bool(uses) and all(
            e["arg"] == 0 and (self.nodes.get(e["target"]) or {}).get("op") == "where"
            for e in uses)
        return "condition" if condition else "labels"

    def seed_words(self) -> str:
        """explain.ts `seedWords`."""
        given = (self.trace.get("reading") or {}).get("seed")
        used = given is not None and _same(given, self.trace["seed"])
        return "the output gradient the text gives" if used else "the output gradient"

    def partial(self, view: StepView, node_id: str) -> tuple[Any, int, int] | None:
        """What a node used several times has received by this step, when some of its users'
        steps are reached: the sum of the parts in, their number, the number of uses."""
        step = self.steps.get(node_id)
        if step is None or len(step["terms"]) < 2:
            return None
        got = [t for t in step["terms"] if t["edge"] is not None and t["edge"] in view.edge_grads]
        if not got:
            return None
        total = _decoded(got[0]["value"])
        for t in got[1:]:
            total = _add(total, _decoded(t["value"]))
        if len(got) == len(step["terms"]):
            total = step["upstream"]
        return total, len(got), len(step["terms"])


def _all_parts(k: int) -> str:
    """"both parts", "all 3 parts"."""
    return "both parts" if k == 2 else f"all {k} parts"


def _decoded(t: Any) -> Any:
    return [_decoded(x) for x in t] if isinstance(t, list) else decode_number(t)


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, list) and isinstance(b, list):
        return [_add(x, y) for x, y in zip(a, b, strict=True)]
    if isinstance(a, list):
        return [_add(x, b) for x in a]
    if isinstance(b, list):
        return [_add(a, y) for y in b]
    return a + b


def _same(a: Any, b: Any) -> bool:
    """The same value (NaN equal to NaN, as the app compares their text)."""
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    x, y = decode_number(a), decode_number(b)
    return x == y or (math.isnan(x) and math.isnan(y))


def _forward_what(v: _View, node: Mapping[str, Any], s: _Speaker) -> str:
    name = v.name(node["id"])
    brief = s.verbosity == "brief"
    if node["kind"] == "const":
        text = f"constant {s.value(node['value'])}" if brief else \
            f"A constant, {s.value(node['value'])}."
    elif node["kind"] == "input":
        role = v.label_role(node)
        if brief:
            mark = " is" if role is None else ", labels," if role == "labels" else \
                ", a condition,"
            text = f"{name}{mark} {s.value(node['value'])}"
        elif role == "labels":
            text = (f"{name} holds labels, whole numbers that take no gradient. "
                    f"It is {s.value(node['value'])}.")
        elif role == "condition":
            text = (f"{name} is the condition of a where, which takes no gradient. "
                    f"It is {s.value(node['value'])}.")
        else:
            text = f"{name} is an input, {s.value(node['value'])}."
    else:
        text = f"{name} is {s.value(node['value'])}" if brief else \
            f"{name} equals {v.formula(node)}, which is {s.value(node['value'])}."
    if not brief:
        text += v.part_of(node)
    return text


def _tangent_words(v: _View, node: Mapping[str, Any], s: _Speaker) -> str:
    wrt = v.wrt
    name = v.name(node["id"])
    tangent = node.get("tangent")
    if s.verbosity == "brief":
        return f", tangent {'0' if tangent is None else s.value(tangent)}"
    if node["kind"] == "input" and node.get("name") == wrt:
        return (" It is the input we differentiate along: its tangent is "
                f"{s.value(0 if tangent is None else tangent)}.")
    if node["kind"] == "const":
        return " Its tangent is 0."
    if tangent is None:
        return f" It does not depend on {wrt}: its tangent is 0."
    text = f" Its tangent, how {name} moves with {wrt}, is {s.value(tangent)}."
    ins = [e for e in v.into(node["id"])
           if (v.nodes.get(e["source"]) or {}).get("kind") != "const"]
    for e in ins[:LIST_MAX]:
        src = v.nodes.get(e["source"])
        if src is None:
            continue
        src_name = v.name(src["id"])
        src_tangent = src.get("tangent")
        part = e.get("tangent")
        if src_tangent is None or part is None:
            text += f" {src_name} does not depend on {wrt}: it adds nothing."
        elif e["local"] is not None and not isinstance(src_tangent, list):
            text += (f" From {src_name}: the local derivative {spoken_number(e['local'])} times "
                     f"its tangent {spoken_number(src_tangent)} gives {s.value(part)}.")
        else:
            text += f" From {src_name} comes {s.value(part)}."
    if len(ins) > LIST_MAX:
        text += f" And {_plural(len(ins) - LIST_MAX, 'more operand', 'more operands')}."
    derivative = v.trace.get("derivative")
    if node["id"] == v.trace["output"] and derivative is not None:
        direction = v.trace.get("tangent")
        along = f"with respect to {wrt}" if direction is None or _is_one(direction) else \
            f"in the direction of all ones in {wrt}" if _all_ones(direction) else \
            f"along the direction given for {wrt}"
        text += f" It is the output: its derivative {along} is {s.value(derivative)}."
    return text


def _is_one(t: Any) -> bool:
    """Whether a direction is the number 1 (as the app's `v === 1`)."""
    return not isinstance(t, list) and decode_number(t) == 1


def _all_ones(t: Any) -> bool:
    """Whether a direction is a tensor of ones (a tensor input's direction when none is
    given)."""
    return isinstance(t, list) and all(x == 1 for x in _flat(t))


def _forward_step(v: _View, view: StepView, node: Mapping[str, Any], s: _Speaker) -> str:
    tangent = _tangent_words(v, node, s) if v.forward_mode else ""
    if s.verbosity == "brief":
        return f"Forward {view.k} of {view.n}: {_forward_what(v, node, s)}{tangent}."
    head = f"Forward step {view.k} of {view.n} along {v.wrt}." if v.forward_mode else \
        f"Forward step {view.k} of {view.n}."
    return f"{head} {_forward_what(v, node, s)}{tangent}"


def _backward_step(v: _View, view: StepView, node: Mapping[str, Any], s: _Speaker) -> str:
    step = view.backward
    if step is None:
        return ""
    name = v.name(node["id"])
    is_output = node["id"] == v.trace["output"]
    terms, edges = step["terms"], step["edges"]
    counts: dict[str, int] = {}
    last: dict[str, str] = {}  # per operand, the last of its edges this step
    for e in edges:
        counts[e["source"]] = counts.get(e["source"], 0) + 1
        last[e["source"]] = e["id"]

    def so_far(e: Mapping[str, Any]) -> tuple[Any, int, int] | None:
        """What an operand used several times has received once this step is done: said after
        its last edge of the step."""
        return v.partial(view, e["source"]) if last[e["source"]] == e["id"] else None

    def operand(e: Mapping[str, Any]) -> str:
        n = v.name(e["source"])
        return f"{n} as operand {e['arg'] + 1}" if counts.get(e["source"], 0) > 1 else n

    upstream = step["upstream"]
    if s.verbosity == "brief":
        if is_output:
            up = f"output gradient {s.value(upstream)}"
        else:
            up = f"upstream {s.value(upstream)}" + (
                f" from {len(terms)} uses" if len(terms) > 1 else "")
        text = f"Backward {view.k} of {view.n}: {name}, {up}"
        if node["kind"] == "input":
            text += ", its gradient"
        said = []
        for e in edges[:LIST_MAX]:
            if e["downstream"] is None:
                said.append(f"{operand(e)} gets nothing")
                continue
            p = so_far(e)
            parts = "" if p is None else \
                f" ({p[1]} of {p[2]} parts, so far {s.value(p[0])})" if p[1] < p[2] else \
                f" ({_all_parts(p[2])} in: {s.value(p[0])})"
            said.append(f"{operand(e)} gets {s.value(e['downstream'])}{parts}")
        if len(edges) > LIST_MAX:
            said.append(f"and {len(edges) - LIST_MAX} more")
        if said:
            text += "; " + ", ".join(said)
        return text + "."
    text = f"Backward step {view.k} of {view.n}."
    if node["kind"] == "input":
        text += f" {name} is an input."
    elif node["kind"] == "const":
        text += " A constant."
    else:
        text += f" {name} equals {v.formula(node)}."
    text += v.part_of(node)
    if node.get("gate_id"):
        text += " It is a gate made of simpler ops: its local derivative is the whole gate's."
    scalar_terms = all(not isinstance(t["value"], list) for t in terms)
    if is_output:
        text += f" It starts the backward pass with {v.seed_words()}{s.after(upstream)}."
    elif len(terms) > 1 and not isinstance(upstream, list) and scalar_terms:
        parts = word_list([s.value(t["value"]) for t in terms])
        text += (f" It receives upstream gradient {s.value(upstream)}, the sum of {parts} "
                 f"from its {len(terms)} uses.")
    elif len(terms) > 1:
        text += (f" It receives upstream gradient{s.after(upstream)}. That is the sum of what "
                 f"its {len(terms)} uses sent back.")
    else:
        text += f" It receives upstream gradient{s.after(upstream)}."
    if node["kind"] == "input":
        out = v.name(v.trace["output"]) if v.trace["output"] in v.nodes else "f"
        text += f" That is the gradient of {out} with respect to {name}, complete."
    for e in edges[:LIST_MAX]:
        src_name = v.name(e["source"])
        who = operand(e)
        down = e["downstream"]
        if down is None:
            text += f" {who} receives no gradient."
            continue
        if e["local"] is not None:
            text += (f" The local derivative of {name} with respect to {who} is "
                     f"{spoken_number(e['local'])}, so {src_name} receives {s.value(down)}.")
        elif e["broadcast"]:
            text += (f" By the chain rule, summed over the broadcast axes, {who} receives "
                     f"{s.value(down)}.")
        else:
            text += f" By the chain rule, {who} receives {s.value(down)}."
        p = so_far(e)
        if p is not None and p[1] < p[2]:
            text += (f" With {p[1]} of its {p[2]} parts in, {src_name}'s gradient so far is "
                     f"{s.value(p[0])}.")
        elif p is not None:
            text += f" With {_all_parts(p[2])} in, {src_name}'s gradient is {s.value(p[0])}."
    if len(edges) > LIST_MAX:
        more = _plural(len(edges) - LIST_MAX, "more operand receives its",
                       "more operands receive theirs")
        text += f" And {more}."
    # An operand of labels gets no edge of the step: say so, rather than leave it unsaid.
    for e in v.into(node["id"]):
        src = v.nodes.get(e["source"])
        role = v.label_role(src) if src is not None else None
        if role == "labels":
            text += f" {v.name(e['source'])} holds labels: no gradient flows to it."
        elif role == "condition":
            text += f" {v.name(e['source'])} is the condition: no gradient flows to it."
    return text


def _narrate(v: _View, view: StepView, s: _Speaker) -> str:
    node = v.nodes.get(view.current) if view.current is not None else None
    phase = "Forward" if view.phase == "forward" else "Backward"
    if node is None:
        return f"{phase} {view.k} of {view.n}." if s.verbosity == "brief" else \
            f"{phase} step {view.k} of {view.n}."
    if view.phase == "forward":
        return _forward_step(v, view, node, s)
    return _backward_step(v, view, node, s)


def narrate_step(trace: Record, view: StepView, verbosity: Verbosity) -> str:
    """What a step did, in words and numbers (narrate.ts `narrateStep`)."""
    s = _Speaker(verbosity)
    return s.end(_narrate(_View(trace), view, s))


def describe_node(trace: Record, view: StepView, node_id: str, verbosity: Verbosity) -> str:
    """A node as known at a step: what it computes, its value, gradient (or tangent), its
    operands and users with what each edge carries (narrate.ts `describeNode`)."""
    return _describe_node(_View(trace), view, node_id, verbosity)


def _describe_node(v: _View, view: StepView, node_id: str, verbosity: Verbosity) -> str:
    trace = v.trace
    node = v.nodes.get(node_id)
    if node is None:
        return f"No node {node_id}."
    s = _Speaker(verbosity)
    name = v.name(node_id)
    wrt = v.wrt
    valued = node_id in view.valued
    role = v.label_role(node) if node["kind"] == "input" else None
    graded = node_id in view.graded and node["grad"] is not None
    p = None if v.forward_mode or graded or node["kind"] == "const" or role is not None \
        else v.partial(view, node_id)
    ins = v.into(node_id)
    outs = v.outs.get(node_id, [])
    tangent = node.get("tangent")
    if verbosity == "brief":
        # (A constant's name is its number: "constant 2", not "2, value 2".)
        const = node["kind"] == "const"
        text = f"constant {s.value(node['value'])}" if const and valued else \
            f"{'constant' if const else name}, " + \
            (f"value {s.value(node['value'])}" if valued else "no value yet")
        if v.forward_mode:
            if valued:
                text += f", tangent {'0' if tangent is None else s.value(tangent)}"
        elif role is not None:
            text += ", labels" if role == "labels" else ", a condition"
        elif graded:
            text += f", gradient {s.value(node['grad'])}"
        elif p is not None:
            text += f", gradient so far {s.value(p[0])}"
        elif node["kind"] != "const":
            text += ", no gradient yet" if node_id in v.steps else ", no gradient"

        def names(ids: list[str]) -> str:
            # (A constant's name is its number: "the constant 1", never read as an operand's.)
            said = [f"the constant {s.value(v.nodes[i]['value'])}"
                    if (v.nodes.get(i) or {}).get("kind") == "const" else v.name(i)
                    for i in ids[:LIST_MAX]]
            if len(ids) > LIST_MAX:
                said.append(f"{len(ids) - LIST_MAX} more")
            return word_list(said)

        if ins:
            text += f"; {'operand' if len(ins) == 1 else 'operands'} " \
                f"{names([e['source'] for e in ins])}"
        if outs:
            text += f"; used by {names([e['target'] for e in outs])}"
        return text + "."
    if node["kind"] == "const":
        text = "A constant."
    elif role == "labels":
        text = f"{name} holds labels, whole numbers that take no gradient."
    elif role == "condition":
        text = f"{name} is the condition of a where, which takes no gradient."
    elif node["kind"] == "input":
        text = f"{name} is an input."
    else:
        text = f"{name} equals {v.formula(node)}."
    text += v.part_of(node)
    if node.get("gate_id"):
        text += " It is a gate made of simpler ops."
    if node_id == trace["output"]:
        text += " It is the output."
    text += f" Its value is {s.value(node['value'])}." if valued else \
        " Its value is not computed yet."
    if v.forward_mode:
        if not valued:
            text += " Its tangent is not computed yet."
        elif tangent is None:
            text += f" Its tangent along {wrt} is 0: it does not depend on {wrt}."
        else:
            text += f" Its tangent along {wrt} is {s.value(tangent)}."
    elif role is None and node["kind"] != "const":
        if graded:
            text += f" Its gradient is {s.value(node['grad'])}."
        elif p is not None:
            text += (f" Its gradient so far is {s.value(p[0])}, with {p[1]} of its {p[2]} parts "
                     "in.")
        elif node_id not in v.steps:
            # A comparison, or a value another replaces: no gradient flows back to it.
            text += " It takes no gradient: none flows back to it."
        else:
            text += " Its gradient is not known yet."
    for e in ins[:LIST_MAX]:
        src = v.nodes.get(e["source"]) or {}
        src_name = v.name(e["source"])
        if src.get("kind") == "const":
            text += f" Operand: the constant {s.value(src['value'])}."
            continue
        src_role = v.label_role(src) if src else None
        if src_role is not None:
            what = "labels" if src_role == "labels" else "the condition"
            text += f" Operand {src_name}, {what}: no gradient."
            continue
        bits: list[str] = []
        if (valued if v.forward_mode else e["id"] in view.edge_grads):
            if e["local"] is not None:
                bits.append(f"local derivative {spoken_number(e['local'])}")
            if v.forward_mode:
                part = e.get("tangent")
                bits.append("it adds nothing" if part is None else f"it adds {s.value(part)}")
            else:
                down = e["downstream"]
                bits.append("it receives no gradient" if down is None else
                            f"it receives {s.value(down)}")
        text += f" Operand {src_name}: {', '.join(bits)}." if bits else f" Operand {src_name}."
    if len(ins) > LIST_MAX:
        text += f" And {_plural(len(ins) - LIST_MAX, 'more operand', 'more operands')}."
    for e in outs[:LIST_MAX]:
        user = v.name(e["target"])
        if v.forward_mode and e["target"] in view.valued and e.get("tangent") is not None:
            text += f" Used by {user}, to which it adds {s.value(e['tangent'])}."
        elif not v.forward_mode and e["id"] in view.edge_grads and e["downstream"] is not None:
            text += f" Used by {user}, which sends back {s.value(e['downstream'])}."
        else:
            text += f" Used by {user}."
    if len(outs) > LIST_MAX:
        text += f" And {_plural(len(outs) - LIST_MAX, 'more use', 'more uses')}."
    return s.end(text)


def _step_words(v: _View, view: StepView) -> str:
    words = f"{view.phase} step {view.k} of {view.n}"
    return f"{words}, forward mode along {v.wrt}" if v.forward_mode else words


def expr_line(expr: str) -> str:
    """The expression on one line (its lines joined by "; "), cut to TITLE_EXPR_MAX characters
    (narrate.ts `exprLine`)."""
    lines = (re.sub(r"[ \t]+", " ", line).strip(" ") for line in re.split(r"\r\n|\r|\n", expr))
    line = "; ".join(x for x in lines if x)
    return line[: TITLE_EXPR_MAX - 1] + "…" if len(line) > TITLE_EXPR_MAX else line


def describe_view(trace: Record, view: StepView) -> tuple[str, str]:
    """The view's text alternative: its title (the expression and the step) and a description
    of the graph and the step (narrate.ts `describeView`)."""
    v = _View(trace)
    s = _Speaker("full")
    title = f"{expr_line(trace['expr'])} ({_step_words(v, view)})"
    kinds = [n["kind"] for n in trace["nodes"]]
    counted = [_plural(kinds.count(k), one, many)
               for k, one, many in (("input", "input", "inputs"),
                                    ("const", "constant", "constants"),
                                    ("op", "operation", "operations")) if kinds.count(k)]
    text = (f"The graph has {_plural(len(kinds), 'node', 'nodes')}: "
            f"{word_list(counted)}.")
    inputs = [n for n in trace["nodes"] if n["kind"] == "input"]
    if inputs:
        said = [f"{v.name(n['id'])} holds labels" if n.get("labels") else
                f"{v.name(n['id'])} is " + (shape_phrase(_shape(n["value"]))
                                            if isinstance(n["value"], list)
                                            else spoken_number(n["value"]))
                for n in inputs[:LIST_MAX]]
        if len(inputs) > LIST_MAX:
            said.append(_plural(len(inputs) - LIST_MAX, "more input", "more inputs"))
        text += f" Its inputs: {word_list(said)}."
    out = v.nodes.get(trace["output"])
    if out is not None:
        text += f" The output {v.name(out['id'])} is {s.value(out['value'])}."
    if v.forward_mode and trace.get("derivative") is not None:
        text += (f" In forward mode along {v.wrt}, its derivative is "
                 f"{s.value(trace['derivative'])}.")
    text += " " + _narrate(v, view, s)
    # No pointer to the table view: this text is also a picture's and a slide's, which have none.
    return title, text


def describe(trace: Record, step: str | None = None) -> DescribeResponse:
    """GET /api/describe's answer: the view's title and text at `step` (`f2`, `b3`, `start`,
    `end`: render.py `step_index`), the step's narration in both verbosities, and each node as
    known at the step."""
    view = step_view(trace, step_index(trace, step))
    title, text = describe_view(trace, view)
    v = _View(trace)  # indexed once for every node's text
    nodes = [DescribeNode(id=n["id"], name=v.name(n["id"]), kind=n["kind"],
                          full=_describe_node(v, view, n["id"], "full"),
                          brief=_describe_node(v, view, n["id"], "brief"))
             for n in trace["nodes"]]
    return DescribeResponse(
        title=title, text=text,
        step=DescribeStep(index=view.index, phase=view.phase, k=view.k, n=view.n,
                          node=view.current,
                          narration_brief=narrate_step(trace, view, "brief"),
                          narration_full=narrate_step(trace, view, "full")),
        nodes=nodes)


def as_text(answer: DescribeResponse) -> str:
    """The plain-text form: the title, a blank line, the text."""
    return f"{answer['title']}\n\n{answer['text']}\n"


def _accepted(accept: str, media: str) -> tuple[float, int, int]:
    """How an Accept header takes `media`: the q of its most specific range that matches it
    (type/subtype, then type/*, then */*, as RFC 9110 says), how specific that range is (2, 1, 0;
    -1: none matches) and where it stands in the header (earlier first)."""
    kind = media.split("/")[0]
    best: tuple[float, int, int] = (0.0, -1, 0)
    for at, item in enumerate(accept.split(",")):
        name, *params = (p.strip() for p in item.split(";"))
        specific = {media: 2, f"{kind}/*": 1, "*/*": 0}.get(name.lower(), -1)
        if specific <= best[1]:
            continue
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        best = (q, specific, at)
    return best


def wants_text(fmt: str | None, accept: str | None) -> bool:
    """Whether GET /api/describe answers in plain text: `format=text`; without `format`, an
    Accept header that takes text/plain before application/json (a higher q; at the same q, named
    more exactly; else named first)."""
    if fmt is not None:
        return fmt == "text"
    if not accept:
        return False
    tq, ts, ta = _accepted(accept, "text/plain")
    jq, js, ja = _accepted(accept, "application/json")
    return tq > 0 and (tq, ts, -ta) > (jq, js, -ja)

"""Gradients as graphs: `grad(f, x)` builds the backward pass of `f` out of differentiable ops.

This is PyTorch's `create_graph=True`: instead of numbers, the reverse pass emits graph nodes.
Each op's `rule` (in its registry entry) writes its VJP with ops, so `grad(x^3, x)` becomes the
nodes of `3 * x^2`, which can be differentiated again: `grad(grad(x^3, x), x)` is `6 * x`. The few
ops those rules need beyond the language's (a sum back over broadcast axes, masks, the halves of
matmul's and conv2d's VJPs) are registered in ops/gradient.py, each with its own exact VJP, JVP
and rule.

The walk is the engine's `backward` with nodes for numbers: from the seed 1 at `f`, every node on
a path from `x` to `f`, in reverse order, sums what its uses sent back (the copy gate, now an `add`
node), then asks its op's rule for each operand's part. Where the forward broadcast an operand, its
part is summed back (`sum_to`), unless the shapes are known to be equal.

Second derivatives at kinks: the masks of relu, abs, max, min and pow are indicator ops whose own
derivative is zero everywhere (as in PyTorch, where comparisons do not require grad). So relu'' and
abs'' are 0 everywhere, at 0 too, where the true second derivative does not exist; max and min
likewise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .ops import REGISTRY, Builder


def _broadcast_needs_sum(b: Builder, part: int, operand: int) -> bool:
    got, want = b.shape(part), b.shape(operand)
    return got is None or want is None or got != want


def gradient_nodes(b: Builder, f: int, xs: Sequence[int], args_of: Callable[[int], Sequence[int]],
                   op_of: Callable[[int], str | None], seed: int) -> list[int | None]:
    """The node of d f / d x for each x in `xs` (None where f does not depend on x), emitted
    through `b`. `args_of` and `op_of` read the graph; `seed` is the node of d f / d f."""
    # The nodes f depends on, and among them those that depend on some x: only they get adjoints.
    ancestors: set[int] = set()
    stack = [f]
    while stack:
        n = stack.pop()
        if n in ancestors:
            continue
        ancestors.add(n)
        stack.extend(args_of(n))
    targets = set(xs)
    on_path: set[int] = set()
    for n in sorted(ancestors):  # node indices are a topological order
        name = op_of(n)
        differentiable = name is None or REGISTRY[name].differentiable
        if n in targets or (differentiable and any(a in on_path for a in args_of(n))):
            on_path.add(n)
    parts: dict[int, list[int]] = {f: [seed]} if f in on_path else {}
    adjoint: dict[int, int] = {}
    for n in sorted(on_path, reverse=True):
        sent = parts.get(n)
        if not sent:
            continue
        g = sent[0]
        for p in sent[1:]:
            g = b.op("add", g, p)  # the copy gate sums
        adjoint[n] = g
        name = op_of(n)
        if name is None:
            continue
        op = REGISTRY[name]
        args = args_of(n)
        needs = [a in on_path for a in args]
        downstream = op.rule(b, g, args, n, needs)
        for a, need, d in zip(args, needs, downstream, strict=True):
            if not need or d is None:
                continue
            if op.elementwise and _broadcast_needs_sum(b, d, a):
                d = b.op("sum_to", d, a)
            parts.setdefault(a, []).append(d)
    return [adjoint.get(x) for x in xs]

# The texts are the notes' characters exactly: long formulas stay on one line.
# ruff: noqa: E501
"""Reading corpus: lecture-notes 001, EECS 498 (Deep Learning for Computer Vision) notes on
backpropagation: the worked example f(x, y, z) = (x + y)z at x = -2, y = 5, z = -4, the local
gradients of the gates, the ReLU mask and the transpose in the matrix gradients.

Most of the notes' math is derivatives written with ∂ or statements about shapes and sets
(x ∈ R^N, (D_x, 1)): those are EXCLUDED, each with its reason, as are names in the prose.
"""

from tests.corpus.entry import Entry, Excluded

EX = "lecture-notes 001, Computational Graph: Example"
MOD = "lecture-notes 001, Modular Computations"
PAT = "lecture-notes 001, Patterns in Gradient Flow"
VEC = "lecture-notes 001, Re-cap: Vector Derivatives"
BPV = "lecture-notes 001, Backprop with Vectors"
RELU = "lecture-notes 001, Backprop with Vectors: Example with ReLU"
MAT = "lecture-notes 001, Backprop with Matrices (or Tensors)"
INTRO = "lecture-notes 001, introduction"
GRAPH = "lecture-notes 001, Computational Graph"
UP = "lecture-notes 001, Downstream, Local, Upstream Gradients"
HIGH = "lecture-notes 001, Backprop: Higher-Order Derivatives"

# The notes' point: x = -2, y = 5, z = -4 (then q = x + y = 3, f = -12).
XYZ = {"x": -2.0, "y": 5.0, "z": -4.0}

ENTRIES = [
    # ---------------------------------------------------------------- the worked example
    Entry(
        id="eecs-f-header",
        source=EX,
        notation="latex",
        text=r"""$f(x, y, z) = (x + y)z$""",
        # a header: f names the output, x, y, z are the inputs; (x + y)z is a product.
        canonical="f = (x + y) * z",
        torch="lambda x, y, z: (x + y) * z",
        values=XYZ,
    ),
    Entry(
        id="eecs-f-rhs",
        source=EX,
        notation="latex",
        text=r"""(x + y)z""",
        canonical="(x + y) * z",
        torch="lambda x, y, z: (x + y) * z",
        values=XYZ,
    ),
    Entry(
        id="eecs-f-header-values",
        source=EX + " (the function and the point where it is evaluated)",
        notation="latex",
        text=r"""$f(x, y, z) = (x + y)z$
$x = -2, y = 5, z = -4$""",
        # As the notes write it: the function first, then a line of values for its inputs
        # (a value line computes nothing, wherever it stands).
        canonical="f = (x + y) * z",
        torch="lambda x, y, z: (x + y) * z",
        text_values=XYZ,
    ),
    Entry(
        id="eecs-forward-q",
        source=EX + " (forward pass, step 1)",
        notation="latex",
        text=r"""$q = x + y$""",
        canonical="q = x + y",
        torch="lambda x, y: x + y",
        values={"x": -2.0, "y": 5.0},
    ),
    Entry(
        id="eecs-forward-f",
        source=EX + " (forward pass, step 2)",
        notation="latex",
        text=r"""$f = qz$""",
        # qz: q times z (no multi-letter name is assigned or given a value).
        canonical="f = q * z",
        torch="lambda q, z: q * z",
        values={"q": 3.0, "z": -4.0},
    ),
    Entry(
        id="eecs-forward-pass",
        source=EX + " (forward pass)",
        notation="latex",
        text=r"""$q = x + y$
$f = qz$""",
        canonical="q = x + y\nf = q * z",
        torch="lambda x, y, z: (x + y) * z",
        values=XYZ,
    ),
    Entry(
        id="eecs-values-forward-pass",
        source=EX + " (the point, then the forward pass)",
        notation="latex",
        text=r"""$x = -2, y = 5, z = -4$
$q = x + y$
$f = qz$""",
        canonical="q = x + y\nf = q * z",
        torch="lambda x, y, z: (x + y) * z",
        text_values=XYZ,
    ),
    # ---------------------------------------------------------------- gates
    Entry(
        id="eecs-add-gate",
        source=PAT + " (the add gate; also the Example)",
        notation="latex",
        text=r"""$x + y$""",
        canonical="x + y",
        torch="lambda x, y: x + y",
        values={"x": -2.0, "y": 5.0},
    ),
    Entry(
        id="eecs-sigmoid-local",
        source=MOD + " (right side of the sigmoid's local gradient)",
        notation="latex",
        text=r"""(1-\sigma(x)) \sigma(x)""",
        # sigma applied is the sigmoid; at x = 1 the sigmoid's output is the notes' 0.73.
        canonical="(1 - sigmoid(x)) * sigmoid(x)",
        torch="lambda x: (1 - torch.sigmoid(x)) * torch.sigmoid(x)",
        values={"x": 1.0},
    ),
    Entry(
        id="eecs-reciprocal-local",
        source=PAT + " (the reciprocal gate's local gradient)",
        notation="latex",
        text=r"""$\frac{-1}{x^2}$""",
        canonical="(-1) / x^2",
        torch="lambda x: -1 / x**2",
        values={"x": 2.0},
    ),
    Entry(
        id="eecs-exp-local",
        source=PAT + " (the exponential gate's local gradient)",
        notation="latex",
        text=r"""$e^x$""",
        # e is the constant: e^x is exp(x).
        canonical="e^x",
        torch="lambda x: torch.exp(x)",
        values={"x": 1.0},
    ),
    Entry(
        id="eecs-mean-factor",
        source=PAT + " (the summation gate's 1/N)",
        notation="latex",
        text=r"""$\frac{1}{N}$""",
        canonical="1 / N",
        torch="lambda N: 1 / N",
        values={"N": 4.0},
    ),
    Entry(
        id="eecs-relu-mask",
        source=RELU + " (pass the gradient where x_i > 0)",
        notation="latex",
        text=r"""$x_i > 0$""",
        # x_i is x elementwise; a comparison is a 0/1 mask whose derivative is 0.
        canonical="x > 0",
        # the mask, as numbers; 0 * x keeps x in PyTorch's graph (its gradient is 0).
        torch="lambda x: (x > 0).to(x.dtype) + 0 * x",
        values={"x": [1.0, -2.0, 3.0, -0.5]},
    ),
    Entry(
        id="eecs-transpose",
        source=MAT + " (dL/dw is x^T times the upstream gradient)",
        notation="latex",
        text=r"""$x^T$""",
        canonical="transpose(x)",
        torch="lambda x: x.T",
        values={"x": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]},
    ),
]

# Reasons, shared by many spans.
_PARTIAL = "a derivation: ∂ (a derivative written out), not a computation"
_NAME = "a name in the prose: computes nothing"
_SET = "says which set the values live in (∈ ℝ^N): computes nothing"
_SHAPE = "a shape (rows, columns), not a computation"

EXCLUDED = [
    Excluded(INTRO, r"""$\frac{\partial L}{\partial W_{i}}, \frac{\partial L}{\partial b_{i}}$""",
             "the gradients to compute, named: " + _PARTIAL),
    Excluded(GRAPH, r"""$W$""", _NAME),
    Excluded(GRAPH, r"""$x$""", _NAME),
    Excluded(EX, r"""$f$""", _NAME),
    Excluded(EX, r"""$y$""", _NAME),
    Excluded(EX, r"""$z$""", _NAME),
    Excluded(UP, r"""$q$""", _NAME),
    Excluded(UP, r"""$L$""", _NAME),
    Excluded(EX, r"""$\frac{\partial f}{\partial x}, \frac{\partial f}{\partial y}, \frac{\partial f}{\partial z}$""",
             "the derivatives to compute, named: " + _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial f}=1$""", _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial z} = q = 3$""",
             "the backward pass worked by hand: " + _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial z} = q\cdot 1 = 3$""",
             "the backward pass worked by hand: " + _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial q}=z=-4$""",
             "the backward pass worked by hand: " + _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial q}=z\cdot 1=-4$""",
             "the backward pass worked by hand: " + _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial x}$""", _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial y} = \frac{\partial q}{\partial y}\cdot \frac{\partial f}{\partial q}$""",
             "the chain rule: " + _PARTIAL),
    Excluded(EX, r"""$\frac{\partial q}{\partial y} = \frac{\partial q}{\partial y} (x + y) = 1$""",
             "a local derivative worked by hand: " + _PARTIAL),
    Excluded(EX, r"""$0 + 1$""",
             "the local derivatives of x + y with respect to x's and y's parts, added by hand: "
             "numbers of a derivation, no input"),
    Excluded(EX, r"""$\frac{\partial f}{\partial q} = \frac{\partial f}{\partial q} (qz) = -4$""",
             "a local derivative worked by hand: " + _PARTIAL),
    Excluded(EX, r"""$\frac{\partial f}{\partial y} = 1 \cdot -4 = -4$""",
             "the chain rule in numbers: " + _PARTIAL),
    Excluded(UP, r"""$\frac{\partial f}{\partial y}$""", _PARTIAL),
    Excluded(UP, r"""$\frac{\partial L}{\partial z}$""", "the upstream gradient: " + _PARTIAL),
    Excluded(UP, r"""$\frac{\partial z}{\partial x}$""", "a local gradient: " + _PARTIAL),
    Excluded(UP, r"""$\frac{\partial z}{\partial y}$""", "a local gradient: " + _PARTIAL),
    Excluded(MOD, r"""$\frac{\partial}{\partial x}[\sigma(x)] = (1-\sigma(x)) \sigma(x)$""",
             "the sigmoid's derivative: " + _PARTIAL + "; its right side is the entry "
             "eecs-sigmoid-local"),
    Excluded(MOD, r"""- downstream = (1 - sigmoid output)(sigmoid output) * (upstream gradient).""",
             "the rule in words: 'sigmoid output' and 'upstream gradient' are phrases, not names"),
    Excluded(MOD, r"""- 0.2 = (1 - 0.73)(0.73)(0.2)""",
             "numbers only, no input to differentiate (reading_rules.json has it: a number on "
             "the left, the right side is read); the notes' arithmetic is off: the right side "
             "is 0.039"),
    Excluded(PAT, r"""$\frac{1}{x}dx$""",
             "a differential (the log gate's local gradient times dx), not a computation"),
    Excluded(VEC, r"""$x \in \mathbb{R}, y \in \mathbb{R}$""", _SET),
    Excluded(VEC, r"""$\frac{\partial y}{\partial x} \in \mathbb{R}$""", _SET + "; " + _PARTIAL),
    Excluded(VEC, r"""$x \in \mathbb{R}^N, y \in \mathbb{R}$""", _SET),
    Excluded(VEC, r"""$\frac{\partial y}{\partial x} \in \mathbb{R}^N$""", _SET + "; " + _PARTIAL),
    Excluded(VEC, r"""$(\frac{\partial y}{\partial x})_n = \frac{\partial y}{\partial x_n}$""",
             "an entry of the gradient: " + _PARTIAL),
    Excluded(VEC, r"""$x \in \mathbb{R}^n, y \in \mathbb{R}^M$""", _SET),
    Excluded(VEC, r"""$\frac{\partial y}{\partial x} \in \mathbb{R}^{N \times M}$""",
             _SET + "; " + _PARTIAL),
    Excluded(VEC, r"""$(\frac{\partial y}{\partial x})_{n, m} = \frac{\partial y_m}{\partial x_n}$""",
             "an entry of the Jacobian: " + _PARTIAL),
    Excluded(VEC, r"""$N \times M$""", "the Jacobian's size, not a product to compute"),
    Excluded(BPV, r"""$(D_x, 1)$""", _SHAPE),
    Excluded(BPV, r"""$(D_y, 1)$""", _SHAPE),
    Excluded(BPV, r"""$(D_z, 1)$""", _SHAPE),
    Excluded(BPV, r"""$(D_x, D_z)$""", _SHAPE),
    Excluded(BPV, r"""$(D_x, D_z) \times (D_z, 1)$""",
             "shapes multiplied in words (a matrix times a vector), not a computation"),
    Excluded(BPV, r"""$\frac{\partial L}{\partial x} = \frac{\partial z}{\partial x} \frac{\partial L}{\partial z}$""",
             "the chain rule as a Jacobian-vector product: " + _PARTIAL),
    Excluded(BPV + "; also Backprop with Matrices",
             r"""$\frac{\partial z}{\partial x} \frac{\partial L}{\partial z}$""",
             "a Jacobian times the upstream gradient: " + _PARTIAL),
    Excluded(RELU, r"""$\frac{\partial L}{\partial y}$""", "the upstream gradient: " + _PARTIAL),
    Excluded(MAT, r"""$[\mathrm{D}_{\mathrm{x}} \times \mathrm{M}_{\mathrm{x}} \times \mathrm{D}_{\mathrm{z}} \times \mathrm{M}_{\mathrm{z}}]$""",
             "the Jacobian's 4-D shape, not a product to compute"),
    Excluded(MAT, r"""$\frac{\partial L}{\partial x}$""", _PARTIAL),
    Excluded(MAT, r"""$\frac{\partial L}{\partial w}$""", _PARTIAL),
    Excluded(HIGH, r"""$x_0$""", _NAME),
    Excluded(HIGH, r"""$x_1$""", _NAME),
]

# ruff: noqa: E501, W293
# (the texts are pasted verbatim from the notes: long lines and trailing spaces are theirs)
"""Reading corpus from lecture notes 002, "Backpropagation I: Autodifferentiation and
Computational Graphs" (/work/shared/lecture-notes/002_3ae8179f1d699bfa.txt).

Every formula and every code line that computes something is here verbatim, alone (when it
means something alone) and as the block a student pastes. The hand-written derivatives (the
∂ and ∇ lines) are in EXCLUDED: they are what gradtrace computes, not programs to trace.
Code blocks keep the notes' Markdown indentation (four spaces), as they are in the file.
"""

from tests.corpus.entry import Entry, Excluded

S = "lecture-notes 002"

# Values used by several entries (shapes as the notes describe them).
X3 = [[1.0, 2.0], [0.5, -1.0], [0.0, 1.5]]          # a batch of 3 rows with 2 features
W1 = [[0.2, -0.4, 0.6], [0.5, 0.1, -0.3]]           # 2 features -> 3 hidden units
W2 = [[0.3], [-0.6], [0.9]]                         # 3 hidden units -> 1 output
W2H = [[0.3, -0.2], [-0.6, 0.4], [0.9, 0.1]]        # 3 -> 2 (second hidden layer)
W3H = [[0.5], [-0.7]]                               # 2 -> 1
XROW = [[1.0, -1.0]]                                # one example x, 1 x 2

# The three-line form of exercise 2, with the notes' f(1, 0, -2) and w = 3.
EX2 = {"x": 1.0, "y": 0.0, "z": -2.0, "w": 3.0}

ENTRIES = [
    # --- the 1-hidden-layer MLP as a system of equations (1)-(5) ---
    Entry(
        id="autodiff-eq1",
        source=f"{S}, introduction: MLP equation (1)",
        notation="latex",
        text=r"""$$
z^{(2)} = XW^{(1)} \tag{1}\\
$$""",
        canonical="z2 = X @ W1",
        torch="lambda X, W1: X @ W1",
        values={"X": X3, "W1": W1},
    ),
    Entry(
        id="autodiff-eq2",
        source=f"{S}, introduction: MLP equation (2)",
        notation="latex",
        text=r"""$$
a^{(2)} = \sigma(z^{(2)}) \tag{2}\\
$$""",
        canonical="a2 = sigmoid(z2)",
        torch="lambda z2: torch.sigmoid(z2)",
        values={"z2": [[0.5, -1.0, 2.0]]},
    ),
    Entry(
        id="autodiff-eq3",
        source=f"{S}, introduction: MLP equation (3)",
        notation="latex",
        text=r"""$$
z^{(3)} = a^{(2)}W^{(2)} \tag{3}\\
$$""",
        canonical="z3 = a2 @ W2",
        torch="lambda a2, W2: a2 @ W2",
        values={"a2": [[0.2, 0.7, 0.5]], "W2": W2},
    ),
    Entry(
        id="autodiff-eq4",
        source=f"{S}, introduction: MLP equation (4)",
        notation="latex",
        text=r"""$$
\hat{y} = \sigma(z^{(3)}) \tag{4}\\
$$""",
        canonical="y_hat = sigmoid(z3)",
        torch="lambda z3: torch.sigmoid(z3)",
        values={"z3": [[0.4], [-1.2]]},
    ),
    Entry(
        id="autodiff-eq5",
        source=f"{S}, introduction: MLP equation (5), the squared-error cost",
        notation="latex",
        text=r"""$$
J = \sum \frac{1}{2}(y-\hat{y})^2 \tag{5}\\
$$""",
        canonical="J = sum(1 / 2 * (y - y_hat)^2)",
        torch="lambda y, y_hat: torch.sum(0.5 * (y - y_hat) ** 2)",
        values={"y": [[1.0], [0.0]], "y_hat": [[0.8], [0.3]]},
    ),
    Entry(
        id="autodiff-eq1-5",
        source=f"{S}, introduction: MLP equations (1)-(5) pasted together",
        notation="latex",
        text=r"""$$
z^{(2)} = XW^{(1)} \tag{1}\\
$$
$$
a^{(2)} = \sigma(z^{(2)}) \tag{2}\\
$$
$$
z^{(3)} = a^{(2)}W^{(2)} \tag{3}\\
$$
$$
\hat{y} = \sigma(z^{(3)}) \tag{4}\\
$$
$$
J = \sum \frac{1}{2}(y-\hat{y})^2 \tag{5}\\
$$""",
        canonical="z2 = X @ W1\n"
                  "a2 = sigmoid(z2)\n"
                  "z3 = a2 @ W2\n"
                  "y_hat = sigmoid(z3)\n"
                  "J = sum(1 / 2 * (y - y_hat)^2)",
        torch="lambda X, W1, W2, y: "
              "torch.sum(0.5 * (y - torch.sigmoid(torch.sigmoid(X @ W1) @ W2)) ** 2)",
        values={"X": X3, "W1": W1, "W2": W2, "y": [[1.0], [0.0], [1.0]]},
    ),
    # --- the network as one composite function; the header NN(x, theta) names the output.
    # theta is declared by the header but the body uses only x and the weights (and theta_1,
    # theta_2, theta_3 in the bias forms), so no value is typed for theta.
    Entry(
        id="autodiff-nn-vector-form",
        source=f"{S}, introduction: equations 1-4 in vector form",
        notation="latex",
        text=r"""$$NN({\bf{x}}, \theta) = \sigma(\sigma({\bf{x}}{\bf{W^{(1)}}}){\bf{W^{(2)}}})$$""",
        canonical="NN = sigmoid(sigmoid(x @ W1) @ W2)",
        torch="lambda x, W1, W2: torch.sigmoid(torch.sigmoid(x @ W1) @ W2)",
        values={"x": XROW, "W1": W1, "W2": W2},
    ),
    Entry(
        id="autodiff-nn-bias",
        source=f"{S}, introduction: vector form with bias terms theta_1, theta_2",
        notation="latex",
        text=r"""$$NN({\bf{x}}, \theta) = \sigma(\sigma({\bf{x}}{\bf{W^{(1)}}}+\theta_{1}){\bf{W^{(2)}}}+\theta_{2})$$""",
        canonical="NN = sigmoid(sigmoid(x @ W1 + theta_1) @ W2 + theta_2)",
        torch="lambda x, W1, W2, theta_1, theta_2: "
              "torch.sigmoid(torch.sigmoid(x @ W1 + theta_1) @ W2 + theta_2)",
        values={"x": XROW, "W1": W1, "W2": W2, "theta_1": [0.1, -0.2, 0.3],
                "theta_2": [0.05]},
    ),
    Entry(
        id="autodiff-nn-two-hidden",
        source=f"{S}, introduction: second hidden layer and third bias term",
        notation="latex",
        text=r"""$$NN({\bf{x}}, \theta) = \sigma(\sigma(\sigma({\bf{x}}{\bf{W^{(1)}}}+\theta_{1}){\bf{W^{(2)}}}+\theta_{2}){\bf{W^{(3)}}}+\theta_{3})$$""",
        canonical="NN = sigmoid(sigmoid(sigmoid(x @ W1 + theta_1) @ W2 + theta_2) @ W3 + theta_3)",
        torch="lambda x, W1, W2, W3, theta_1, theta_2, theta_3: torch.sigmoid("
              "torch.sigmoid(torch.sigmoid(x @ W1 + theta_1) @ W2 + theta_2) @ W3 + theta_3)",
        values={"x": XROW, "W1": W1, "W2": W2H, "W3": W3H,
                "theta_1": [0.1, -0.2, 0.3], "theta_2": [0.05, -0.05], "theta_3": [0.2]},
    ),
    # --- pathway analysis of f(x, y) = 1 / (y + e^-x), at f(0, 1) ---
    Entry(
        id="autodiff-f-display",
        source=f"{S}, pathway analysis: the function",
        notation="latex",
        text=r"""$$ f(x,y) = \dfrac{1}{y+e^{-x}} $$""",
        canonical="f = 1 / (y + e^(-x))",
        torch="lambda x, y: 1 / (y + torch.exp(-x))",
        values={"x": 0.0, "y": 1.0},
    ),
    Entry(
        id="autodiff-f-inline",
        source=f"{S}, reverse differentiation: 'Given f(x,y) ..., consider f(0,1)'",
        notation="latex",
        text=r"""$ f(x,y) = \dfrac{1}{y+e^{-x}} $""",
        canonical="f = 1 / (y + e^(-x))",
        torch="lambda x, y: 1 / (y + torch.exp(-x))",
        values={"x": 0.0, "y": 1.0},
    ),
    Entry(
        id="autodiff-def-f",
        source=f"{S}, pathway analysis: 'we would probably write code as follows'",
        notation="python",
        text=r"""    def f(x,y):
        a = -x
        b = math.e ** a
        c = y + b
        d = 1 /c
        return d""",
        canonical="a = -x\nb = e^a\nc = y + b\nd = 1 / c",
        torch="lambda x, y: 1 / (y + torch.exp(-x))",
        values={"x": 0.0, "y": 1.0},
    ),
    Entry(
        id="autodiff-def-f-dedented",
        source=f"{S}, pathway analysis: the same def as copied from the rendered page",
        notation="python",
        text=r"""def f(x,y):
    a = -x
    b = math.e ** a
    c = y + b
    d = 1 /c
    return d""",
        canonical="a = -x\nb = e^a\nc = y + b\nd = 1 / c",
        torch="lambda x, y: 1 / (y + torch.exp(-x))",
        values={"x": 0.0, "y": 1.0},
    ),
    Entry(
        id="autodiff-f-body",
        source=f"{S}, pathway analysis: the def's four node lines without def/return",
        notation="python",
        text=r"""a = -x
b = math.e ** a
c = y + b
d = 1 /c""",
        canonical="a = -x\nb = e^a\nc = y + b\nd = 1 / c",
        torch="lambda x, y: 1 / (y + torch.exp(-x))",
        values={"x": 0.0, "y": 1.0},
    ),
    Entry(
        id="autodiff-line-a",
        source=f"{S}, pathway analysis: node a",
        notation="python",
        text=r"""a = -x""",
        canonical="a = -x",
        torch="lambda x: -x",
        values={"x": 0.0},
    ),
    Entry(
        id="autodiff-line-b",
        source=f"{S}, pathway analysis: node b",
        notation="python",
        text=r"""b = math.e ** a""",
        canonical="b = e^a",
        torch="lambda a: torch.exp(a)",
        values={"a": 0.0},
    ),
    Entry(
        id="autodiff-line-c",
        source=f"{S}, pathway analysis: node c",
        notation="python",
        text=r"""c = y + b""",
        canonical="c = y + b",
        torch="lambda y, b: y + b",
        values={"y": 1.0, "b": 1.0},
    ),
    Entry(
        id="autodiff-line-d",
        source=f"{S}, pathway analysis: node d",
        notation="python",
        text=r"""d = 1 /c""",
        canonical="d = 1 / c",
        torch="lambda c: 1 / c",
        values={"c": 2.0},
    ),
    # The hard-coded derivative: the lines after `return d` never run, so the program is
    # the forward pass of f.
    Entry(
        id="autodiff-def-dfdy",
        source=f"{S}, reverse differentiation: 'How would we hardcode this?'",
        notation="python",
        text=r"""    def dfdy(x,y):
        a = -x
        b = math.e ** a
        c = y + b
        d = 1 /c
        return d
        
        dcdy = 1
        dddc = -1/c**2
        dddy = np.prod([dcdy,dddc])""",
        canonical="a = -x\nb = e^a\nc = y + b\nd = 1 / c",
        torch="lambda x, y: 1 / (y + torch.exp(-x))",
        values={"x": 0.0, "y": 1.0},
    ),
    Entry(
        id="autodiff-line-dddc",
        source=f"{S}, reverse differentiation: local derivative of d = 1/c, as a line of code",
        notation="python",
        text=r"""dddc = -1/c**2""",
        canonical="dddc = -1 / c^2",
        torch="lambda c: -1 / c ** 2",
        values={"c": 2.0},
    ),
    Entry(
        id="autodiff-def-dfdx",
        source=f"{S}, in-class exercise 1: solution (dbda is never defined: dead code)",
        notation="python",
        text=r"""    def dfdx(x,y):
        a = -x
        b = math.e ** a
        c = y + b
        d = 1 /c
        return d
        
        
        dadx = -1
        dbdx = math.e ** a
        dcdb = 1
        dddc = -1/c**2
        dddx = np.prod([dadx, dbda, dcdb, dddc])""",
        canonical="a = -x\nb = e^a\nc = y + b\nd = 1 / c",
        torch="lambda x, y: 1 / (y + torch.exp(-x))",
        values={"x": 0.0, "y": 1.0},
    ),
    Entry(
        id="autodiff-line-dbdx",
        source=f"{S}, in-class exercise 1: local derivative of b = e^a, as a line of code",
        notation="python",
        text=r"""dbdx = math.e ** a""",
        canonical="dbdx = e^a",
        torch="lambda a: torch.exp(a)",
        values={"a": -0.5},
    ),
    # --- e = (a+b)(b+1) ---
    Entry(
        id="autodiff-e-ab",
        source=f"{S}, computational graphs: the formula, at a=2, b=1 (e=6)",
        notation="latex",
        text=r"""$e = (a+b)(b+1)$""",
        canonical="e = (a + b) * (b + 1)",
        torch="lambda a, b: (a + b) * (b + 1)",
        values={"a": 2.0, "b": 1.0},
    ),
    # The notes say e=126 at a=3, b=6; (3+6)(6+1) is 63. The reference computes the math.
    Entry(
        id="autodiff-e-ab-3-6",
        source=f"{S}, computational graphs: the formula, at a=3, b=6",
        notation="latex",
        text=r"""$e = (a+b)(b+1)$""",
        canonical="e = (a + b) * (b + 1)",
        torch="lambda a, b: (a + b) * (b + 1)",
        values={"a": 3.0, "b": 6.0},
    ),
    Entry(
        id="autodiff-c-inline",
        source=f"{S}, computational graphs: first addition",
        notation="latex",
        text=r"""$c = a+b$""",
        canonical="c = a + b",
        torch="lambda a, b: a + b",
        values={"a": 2.0, "b": 1.0},
    ),
    Entry(
        id="autodiff-d-inline",
        source=f"{S}, computational graphs: second addition",
        notation="latex",
        text=r"""$d = b+1$""",
        canonical="d = b + 1",
        torch="lambda b: b + 1",
        values={"b": 1.0},
    ),
    Entry(
        id="autodiff-e-inline",
        source=f"{S}, computational graphs: the multiplication",
        notation="latex",
        text=r"""$e = cd$""",
        canonical="e = c * d",
        torch="lambda c, d: c * d",
        values={"c": 3.0, "d": 2.0},
    ),
    Entry(
        id="autodiff-c-display",
        source=f"{S}, forward derivative: c",
        notation="latex",
        text=r"""$$c = a+b$$""",
        canonical="c = a + b",
        torch="lambda a, b: a + b",
        values={"a": 2.0, "b": 1.0},
    ),
    Entry(
        id="autodiff-d-display",
        source=f"{S}, forward derivative: d",
        notation="latex",
        text=r"""$$d = b+1$$""",
        canonical="d = b + 1",
        torch="lambda b: b + 1",
        values={"b": 1.0},
    ),
    Entry(
        id="autodiff-e-display",
        source=f"{S}, forward derivative: e",
        notation="latex",
        text=r"""$$e = cd$$""",
        canonical="e = c * d",
        torch="lambda c, d: c * d",
        values={"c": 3.0, "d": 2.0},
    ),
    Entry(
        id="autodiff-cde-display",
        source=f"{S}, forward and reverse derivative: the three equations pasted together",
        notation="latex",
        text=r"""$$c = a+b$$

$$d = b+1$$

$$e = cd$$""",
        canonical="c = a + b\nd = b + 1\ne = c * d",
        torch="lambda a, b: (a + b) * (b + 1)",
        values={"a": 2.0, "b": 1.0},
    ),
    Entry(
        id="autodiff-cde-inline",
        source=f"{S}, computational graphs: the three operations, inline, one per line",
        notation="latex",
        text=r"""$c = a+b$
$d = b+1$
$e = cd$""",
        canonical="c = a + b\nd = b + 1\ne = c * d",
        torch="lambda a, b: (a + b) * (b + 1)",
        values={"a": 2.0, "b": 1.0},
    ),
    # --- in-class exercise 2: f(x, y, z) = [max(wx, 0) - y]^2 + z at f(1, 0, -2), w = 3 ---
    Entry(
        id="autodiff-ex2-inline",
        source=f"{S}, in-class exercise 2: the formula, at f(1, 0, -2), w=3",
        notation="latex",
        text=r"""$f(x, y, z) = \left[max(wx, 0)-y\right]^{2}+z$""",
        canonical="f = (max(w * x, 0) - y)^2 + z",
        torch="lambda x, y, z, w: (torch.maximum(w * x, torch.zeros_like(x)) - y) ** 2 + z",
        values=EX2,
    ),
    Entry(
        id="autodiff-ex2-display",
        source=f"{S}, moving from scalars to vectors: the exercise 2 function",
        notation="latex",
        text=r"""$$f(x, y, z) = \left[max(wx, 0)-y\right]^{2}+z$$""",
        canonical="f = (max(w * x, 0) - y)^2 + z",
        torch="lambda x, y, z, w: (torch.maximum(w * x, torch.zeros_like(x)) - y) ** 2 + z",
        values={"x": -0.5, "y": 1.0, "z": 2.0, "w": 3.0},
    ),
    # The solution def returns four gradients (a tuple): gradtrace has one output per program.
    Entry(
        id="autodiff-def-df-scalar",
        source=f"{S}, in-class exercise 2: solution def (returns dx, dw, dy, dz)",
        notation="python",
        text=r"""    def df(x, y, z, w=3):
        p = x * w
        q = max(p, 0)
        r = q - y
        s = r ** 2
        t = s + z
        
        dt = 1
        ds, dz = 1*dt, 1*dt
        dr = 2*r*ds
        dq, dy = 1*dr, -1*dr
        dp = (p>0)*dq
        dx, dw = w*dp, x*dp
        
        return dx, dw, dy, dz""",
        canonical="",
        torch="",
        values={"x": 1.0, "y": 0.0, "z": -2.0},
        text_values={"w": 3},
        expect_error="",
    ),
    Entry(
        id="autodiff-ex2-forward",
        source=f"{S}, in-class exercise 2: the forward lines of the solution",
        notation="python",
        text=r"""p = x * w
q = max(p, 0)
r = q - y
s = r ** 2
t = s + z""",
        # Python's max of two numbers: elementwise (maximum).
        canonical="p = x * w\nq = max(p, 0)\nr = q - y\ns = r^2\nt = s + z",
        torch="lambda x, y, z, w: (torch.maximum(x * w, torch.zeros_like(x)) - y) ** 2 + z",
        values=EX2,
    ),
    Entry(
        id="autodiff-ex2-forward-indented",
        source=f"{S}, in-class exercise 2: the forward lines as selected in the notes",
        notation="python",
        text=r"""        p = x * w
        q = max(p, 0)
        r = q - y
        s = r ** 2
        t = s + z""",
        canonical="p = x * w\nq = max(p, 0)\nr = q - y\ns = r^2\nt = s + z",
        torch="lambda x, y, z, w: (torch.maximum(x * w, torch.zeros_like(x)) - y) ** 2 + z",
        values={"x": 2.0, "y": 1.0, "z": 0.5, "w": -1.5},
    ),
    Entry(
        id="autodiff-line-p",
        source=f"{S}, in-class exercise 2: node p",
        notation="python",
        text=r"""p = x * w""",
        canonical="p = x * w",
        torch="lambda x, w: x * w",
        values={"x": 1.0, "w": 3.0},
    ),
    Entry(
        id="autodiff-line-q-max",
        source=f"{S}, in-class exercise 2: node q (Python's max of two: elementwise)",
        notation="python",
        text=r"""q = max(p, 0)""",
        canonical="q = max(p, 0)",
        torch="lambda p: torch.maximum(p, torch.zeros_like(p))",
        values={"p": [3.0, -1.0, 0.5]},
    ),
    Entry(
        id="autodiff-line-r",
        source=f"{S}, in-class exercise 2: node r",
        notation="python",
        text=r"""r = q - y""",
        canonical="r = q - y",
        torch="lambda q, y: q - y",
        values={"q": 3.0, "y": 0.0},
    ),
    Entry(
        id="autodiff-line-s",
        source=f"{S}, in-class exercise 2: node s",
        notation="python",
        text=r"""s = r ** 2""",
        canonical="s = r^2",
        torch="lambda r: r ** 2",
        values={"r": 3.0},
    ),
    Entry(
        id="autodiff-line-t",
        source=f"{S}, in-class exercise 2: node t",
        notation="python",
        text=r"""t = s + z""",
        canonical="t = s + z",
        torch="lambda s, z: s + z",
        values={"s": 9.0, "z": -2.0},
    ),
    Entry(
        id="autodiff-line-dr",
        source=f"{S}, in-class exercise 2: the backprop line for r",
        notation="python",
        text=r"""dr = 2*r*ds""",
        canonical="dr = 2 * r * ds",
        torch="lambda r, ds: 2 * r * ds",
        values={"r": 3.0, "ds": 1.0},
    ),
    Entry(
        id="autodiff-line-dp",
        source=f"{S}, in-class exercise 2: the backprop line through max (a 0/1 mask)",
        notation="python",
        text=r"""dp = (p>0)*dq""",
        canonical="dp = (p > 0) * dq",
        torch="lambda p, dq: (p > 0).double() * dq",
        values={"p": [3.0, -1.0], "dq": [6.0, 2.0]},
    ),
    # --- vectors: p = xW, f = [max(p, 0) - y]^2 + z ---
    Entry(
        id="autodiff-p-xW",
        source=f"{S}, moving from scalars to vectors: p = xW, (1 x N)(N x H)",
        notation="latex",
        text=r"""$\bf{p} = \bf{x}W$""",
        canonical="p = x @ W",
        torch="lambda x, W: x @ W",
        values={"x": [[1.0, 2.0]], "W": [[1.0, -1.0, 2.0], [0.5, 1.0, -3.0]]},
    ),
    # The header declares x, the body uses p: no value is typed for x.
    Entry(
        id="autodiff-f-vector",
        source=f"{S}, moving from scalars to vectors: f in vector notation",
        notation="latex",
        text=r"""$f(x,y,z) = \left[max(\bf{p},0)-\bf{y}\right]^{2}+\bf{z}$""",
        canonical="f = (max(p, 0) - y)^2 + z",
        torch="lambda p, y, z: (torch.maximum(p, torch.zeros_like(p)) - y) ** 2 + z",
        values={"p": [2.0, -1.0, 0.5], "y": [0.5, 1.0, 0.0], "z": [1.0, 2.0, 3.0]},
    ),
    # Vectorised solution: returns four gradients, and uses W (never defined) beside w.
    Entry(
        id="autodiff-def-df-vector",
        source=f"{S}, a vectorized version of the above code (returns dx, dw, dy, dz)",
        notation="numpy",
        text=r"""    def df(x, y, z, w):
        p = x @ w # @ is an alias for np.matmul() - the full vector inner product - check dimensions!
        q = np.max(p, 0)
        r = q - y
        s = r ** 2
        t = s + z
        
        dt = np.ones_like(t)
        ds, dz = 1*dt, 1*dt
        dr = 2*r*ds
        dq, dy = 1*dr, -1*dr
        dp = (p>0)*dq
        dx, dw = dp@W.T, x.T@dp
        
        return dx, dw, dy, dz""",
        canonical="",
        torch="",
        values={"x": [[1.0, 2.0]], "w": [[1.0, -1.0, 2.0], [0.5, 1.0, -3.0]],
                "y": [0.5, 1.0, 0.0], "z": [1.0, 2.0, 3.0]},
        expect_error="",
    ),
    # np.max(p, 0) is the maximum over axis 0 (amax), not max(p, 0): with p of shape 1 x H
    # it just drops the axis.
    Entry(
        id="autodiff-vector-forward",
        source=f"{S}, a vectorized version: the forward lines",
        notation="numpy",
        text=r"""p = x @ w # @ is an alias for np.matmul() - the full vector inner product - check dimensions!
q = np.max(p, 0)
r = q - y
s = r ** 2
t = s + z""",
        canonical="p = x @ w\nq = amax(p, axis=0)\nr = q - y\ns = r^2\nt = s + z",
        torch="lambda x, w, y, z: (torch.amax(x @ w, dim=0) - y) ** 2 + z",
        values={"x": [[1.0, 2.0]], "w": [[1.0, -1.0, 2.0], [0.5, 1.0, -3.0]],
                "y": [0.5, 1.0, 0.0], "z": [1.0, 2.0, 3.0]},
    ),
    Entry(
        id="autodiff-line-p-matmul",
        source=f"{S}, a vectorized version: p = x @ w with its comment",
        notation="numpy",
        text=r"""p = x @ w # @ is an alias for np.matmul() - the full vector inner product - check dimensions!""",
        canonical="p = x @ w",
        torch="lambda x, w: x @ w",
        values={"x": [[1.0, 2.0]], "w": [[1.0, -1.0, 2.0], [0.5, 1.0, -3.0]]},
    ),
    Entry(
        id="autodiff-line-q-npmax",
        source=f"{S}, a vectorized version: q = np.max(p, 0), the max over axis 0",
        notation="numpy",
        text=r"""q = np.max(p, 0)""",
        canonical="q = amax(p, axis=0)",
        torch="lambda p: torch.amax(p, dim=0)",
        values={"p": [[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]]},
    ),
    # Minibatched solution: returns four gradients; uses dr (never defined) for dR.
    Entry(
        id="autodiff-def-df-batch",
        source=f"{S}, a minibatched version of the above code (returns dX, dW, dy, dz)",
        notation="numpy",
        text=r"""    def df(X, y, z, W):
        P = X @ W # @ is an alias for np.matmul() - the full vector inner product
        Q = np.max(P, 0)
        R = Q - y
        S = R ** 2
        T = S + z
        
        dT = np.ones_like(T)
        dS, dz = 1*dT, dT.sum(axis=0)
        dR = 2*R*dS
        dQ, dy = 1*dr, -1*dR.sum(axis=0)
        dP = (P>0)*dQ
        dX, dW = dP@W.T, X.T@dP
        
        return dX, dW, dy, dz""",
        canonical="",
        torch="",
        values={"X": [[1.0, 2.0], [-1.0, 0.5]], "W": [[1.0, -1.0, 2.0], [0.5, 1.0, -3.0]],
                "y": [0.5, 1.0, 0.0], "z": [1.0, 2.0, 3.0]},
        expect_error="",
    ),
    Entry(
        id="autodiff-batch-forward",
        source=f"{S}, a minibatched version: the forward lines",
        notation="numpy",
        text=r"""P = X @ W # @ is an alias for np.matmul() - the full vector inner product
Q = np.max(P, 0)
R = Q - y
S = R ** 2
T = S + z""",
        canonical="P = X @ W\nQ = amax(P, axis=0)\nR = Q - y\nS = R^2\nT = S + z",
        torch="lambda X, W, y, z: (torch.amax(X @ W, dim=0) - y) ** 2 + z",
        values={"X": [[1.0, 2.0], [-1.0, 0.5]], "W": [[1.0, -1.0, 2.0], [0.5, 1.0, -3.0]],
                "y": [0.5, 1.0, 0.0], "z": [1.0, 2.0, 3.0]},
    ),
    Entry(
        id="autodiff-line-P-matmul",
        source=f"{S}, a minibatched version: P = X @ W with its comment",
        notation="numpy",
        text=r"""P = X @ W # @ is an alias for np.matmul() - the full vector inner product""",
        canonical="P = X @ W",
        torch="lambda X, W: X @ W",
        values={"X": [[1.0, 2.0], [-1.0, 0.5]], "W": [[1.0, -1.0, 2.0], [0.5, 1.0, -3.0]]},
    ),
    Entry(
        id="autodiff-line-Q-npmax",
        source=f"{S}, a minibatched version: Q = np.max(P, 0), the max over the batch axis",
        notation="numpy",
        text=r"""Q = np.max(P, 0)""",
        canonical="Q = amax(P, axis=0)",
        torch="lambda P: torch.amax(P, dim=0)",
        values={"P": [[2.0, 1.0, -4.0], [-0.75, 1.5, -3.5]]},
    ),
    Entry(
        id="autodiff-line-R",
        source=f"{S}, a minibatched version: node R",
        notation="numpy",
        text=r"""R = Q - y""",
        canonical="R = Q - y",
        torch="lambda Q, y: Q - y",
        values={"Q": [2.0, 1.5, -3.5], "y": [0.5, 1.0, 0.0]},
    ),
    Entry(
        id="autodiff-line-S",
        source=f"{S}, a minibatched version: node S",
        notation="numpy",
        text=r"""S = R ** 2""",
        canonical="S = R^2",
        torch="lambda R: R ** 2",
        values={"R": [1.5, 0.5, -3.5]},
    ),
    Entry(
        id="autodiff-line-T",
        source=f"{S}, a minibatched version: node T",
        notation="numpy",
        text=r"""T = S + z""",
        canonical="T = S + z",
        torch="lambda S, z: S + z",
        values={"S": [2.25, 0.25, 12.25], "z": [1.0, 2.0, 3.0]},
    ),
    Entry(
        id="autodiff-line-dR",
        source=f"{S}, a minibatched version: the backprop line for R",
        notation="numpy",
        text=r"""dR = 2*R*dS""",
        canonical="dR = 2 * R * dS",
        torch="lambda R, dS: 2 * R * dS",
        values={"R": [1.5, 0.5, -3.5], "dS": [1.0, 1.0, 1.0]},
    ),
    Entry(
        id="autodiff-line-dP",
        source=f"{S}, a minibatched version: the backprop line through the max (a 0/1 mask)",
        notation="numpy",
        text=r"""dP = (P>0)*dQ""",
        canonical="dP = (P > 0) * dQ",
        torch="lambda P, dQ: (P > 0).double() * dQ",
        values={"P": [[2.0, 1.0, -4.0], [-0.75, 1.5, -3.5]],
                "dQ": [[3.0, 1.0, -7.0], [3.0, 1.0, -7.0]]},
    ),
    # --- in-class exercise 3: one node feeding two (x^2 and 3x) ---
    Entry(
        id="autodiff-ex3",
        source=f"{S}, in-class exercise 3: w = f(x) = x^2 + 3x (the last form is read)",
        notation="latex",
        text=r"""$w = f(x) = x^{2} + 3x$""",
        canonical="w = x^2 + 3 * x",
        torch="lambda x: x ** 2 + 3 * x",
        values={"x": 2.0},
    ),
]

# Why each formula that is not an entry computes nothing to trace.
EXCLUDED = [
    # symbols and values named in prose
    Excluded(S, r"""$\sigma$""", "the symbol sigma named in prose, no argument"),
    Excluded(S, r"""$\theta_1$""", "names the first bias term in prose"),
    Excluded(S, r"""$\theta_2$""", "names the second bias term in prose"),
    Excluded(S, r"""$i$""", "a node name in prose"),
    Excluded(S, r"""$j$""", "a node name in prose"),
    Excluded(S, r"""$d$""", "a node name in prose"),
    Excluded(S, r"""$c$""", "a node name in prose"),
    Excluded(S, r"""$y$""", "an input name in prose"),
    Excluded(S, r"""$X$""", "a variable name in prose"),
    Excluded(S, r"""$Z$""", "a node name in prose"),
    Excluded(S, r"""$J$""", "the cost's name in prose"),
    Excluded(S, r"""$e$""", "a node name in prose"),
    Excluded(S, r"""$m$""", "the number of graph nodes, in prose"),
    Excluded(S, r"""$z$""", "a node name in prose"),
    Excluded(S, r"""$a_{i}$""", "names the input nodes in prose"),
    Excluded(S, r"""$a_{p}$""", "names the intermediate nodes in prose"),
    Excluded(S, r"""$N$""", "a dimension (number of features) in prose"),
    Excluded(S, r"""$H$""", "a dimension (hidden size) in prose"),
    Excluded(S, r"""$W$""", "a matrix name in prose"),
    Excluded(S, r"""$\bf{x}$""", "a vector name in prose"),
    Excluded(S, r"""$B$""", "the batch size in prose"),
    Excluded(S, r"""$x$""", "a variable name in prose"),
    Excluded(S, r"""$f(0,1)$""", "the point of evaluation: the values x=0, y=1 of the entries"),
    Excluded(S, r"""$x=0, y=1$""", "the values x=0, y=1 (the entries' values)"),
    Excluded(S, r"""$c=2$""", "the value of node c at f(0,1), a result"),
    Excluded(S, r"""$a=2$""", "a value (the entries' a)"),
    Excluded(S, r"""$b=1$""", "a value (the entries' b)"),
    Excluded(S, r"""$e=6$""", "the result at a=2, b=1"),
    Excluded(S, r"""$a=3$""", "a value (entry autodiff-e-ab-3-6)"),
    Excluded(S, r"""$b=6$""", "a value (entry autodiff-e-ab-3-6)"),
    Excluded(S, r"""$e=126$""", "the result the notes state at a=3, b=6 (the math gives 63)"),
    Excluded(S, r"""$f(1, 0, -2)$""", "the point of evaluation: the values x=1, y=0, z=-2"),
    Excluded(S, r"""$w=3$""", "the value of w (the entries' w)"),
    Excluded(S, r"""$f(x_{1}, x_{2}, \ldots, x_{n})$""",
             "a function of n inputs in general, with an ellipsis: no formula"),
    Excluded(S, r"""$O(nm)$""", "a time complexity, not a computation"),
    Excluded(S, r"""$O(m)$""", "a time/space complexity, not a computation"),
    Excluded(S, r"""$O(1)$""", "a space complexity, not a computation"),
    Excluded(S, r"""$(1 \times N) \cdot (N \times H)$""", "shape bookkeeping of p = xW"),
    Excluded(S, r"""$1 \times H$""", "a shape"),
    Excluded(S, r"""$(N \times 1) \cdot (1 \times H) = N \times H$""",
             "shape bookkeeping of the gradient of w"),
    Excluded(S, r"""$(1 \times H) \cdot (H \times N) = 1 \times N$""",
             "shape bookkeeping of the gradient of x"),
    Excluded(S, r"""$1 \times N$""", "a shape"),
    Excluded(S, r"""$(\bf{p,q, r, s})$""", "lists the node vectors in prose"),
    Excluded(S, r"""$B \times N$""", "a shape"),
    Excluded(S, r"""$(\bf{P,Q,R,S})$""", "lists the node matrices in prose"),
    Excluded(S, r"""$B \times H$""", "a shape"),
    Excluded(S, r"""$\nabla$""", "the gradient symbol named in prose"),
    # pathway analysis: derivatives
    Excluded(S, r"""$\dfrac{\partial i}{\partial j}$""", "derivation: the derivative of node i by node j, in a heading"),
    Excluded(S, r"""$\dfrac{\partial f}{\partial y}$""", "derivation: the derivative asked for"),
    Excluded(S, r"""$\dfrac{\partial d}{\partial d} = 1$""", "derivation: the output's gradient is 1"),
    Excluded(S, r"""$\dfrac{\partial d}{\partial c} = -\dfrac{1}{c^{2}}$""", "derivation: local derivative of d = 1/c"),
    Excluded(S, r"""$\dfrac{\partial c}{\partial y} = 1$""", "derivation: local derivative of c = y + b"),
    Excluded(S, r"""$\dfrac{\partial d}{\partial c}\dfrac{\partial c}{\partial y} = \dfrac{\partial d}{\partial y} = -\dfrac{1}{c^{2}}$""",
             "derivation: the chain rule along the path y -> c -> d"),
    Excluded(S, r"""$\dfrac{\partial f}{\partial y} = \dfrac{\partial d}{\partial y} = -\frac{1}{4}$""",
             "derivation: the result df/dy = -1/4 at f(0,1)"),
    Excluded(S, r"""$\dfrac{\partial f}{\partial x}$""", "derivation: the derivative asked for in exercise 1"),
    # forward derivative
    Excluded(S, r"""$$\dfrac{\partial c}{\partial a} = 1$$""", "derivation: local derivative of c = a + b"),
    Excluded(S, r"""$$\dfrac{\partial c}{\partial b} = 1$$""", "derivation: local derivative of c = a + b"),
    Excluded(S, r"""$$\dfrac{\partial d}{\partial b} = 1$$""", "derivation: local derivative of d = b + 1"),
    Excluded(S, r"""$$\dfrac{\partial e}{\partial d} = c\dfrac{\partial d}{\partial b} = (a+b) = 3$$""",
             "derivation: forward-mode step for e = cd"),
    Excluded(S, r"""$$\dfrac{\partial e}{\partial c} = d\dfrac{\partial c}{\partial b} = (b+1) = 2$$""",
             "derivation: forward-mode step for e = cd"),
    Excluded(S, r"""$\dfrac{\partial }{\partial X}$""", "derivation: the forward-mode operator d/dX"),
    Excluded(S, r"""$$\dfrac{\partial y}{\partial x} = \dfrac{\partial y}{\partial w_{1}}\dfrac{\partial w_{1}}{\partial x} =  \dfrac{\partial y}{\partial w_{1}}\left(\dfrac{\partial w_{1}}{\partial w_{2}}\dfrac{\partial w_{2}}{\partial x}\right) \cdots$$""",
             "derivation: the chain rule accumulated forward (inner first)"),
    # reverse derivative
    Excluded(S, r"""$\dfrac{\partial J}{\partial W}$""", "derivation: the gradient a network needs"),
    Excluded(S, r"""$\dfrac{\partial Z}{\partial }$""", "derivation: the adjoint operator dZ/d."),
    Excluded(S, r"""$$\dfrac{\partial y}{\partial x} = \dfrac{\partial y}{\partial w_{1}}\dfrac{\partial w_{1}}{\partial x} =  \left(\dfrac{\partial y}{\partial w_{2}}\dfrac{\partial w_{2}}{\partial w_{1}}\right)\dfrac{\partial w_{1}}{\partial x} \cdots$$""",
             "derivation: the chain rule accumulated in reverse (outer first)"),
    Excluded(S, r"""$$\dfrac{\partial e}{\partial e} = 1$$""", "derivation: the output's gradient is 1"),
    Excluded(S, r"""$$\dfrac{\partial c}{\partial a} = 1 $$""", "derivation: local derivative of c = a + b"),
    Excluded(S, r"""$$\dfrac{\partial c}{\partial b} = 1 $$""", "derivation: local derivative of c = a + b"),
    Excluded(S, r"""$$\dfrac{\partial d}{\partial a} = 0 $$""", "derivation: d = b + 1 does not depend on a"),
    Excluded(S, r"""$$\dfrac{\partial d}{\partial b} = 1 $$""", "derivation: local derivative of d = b + 1"),
    Excluded(S, r"""$$\dfrac{\partial e}{\partial c} = d = (b+1) = 2$$""", "derivation: local derivative of e = cd by c"),
    Excluded(S, r"""$$\dfrac{\partial e}{\partial d} = c = (a+b) = 3$$""", "derivation: local derivative of e = cd by d"),
    Excluded(S, r"""$$\dfrac{\partial e}{\partial a} =
\left(c\dfrac{\partial d}{\partial a} + d\dfrac{\partial c}{\partial a}\right) =(b+1) = 2 $$""",
             "derivation: de/da summed over both paths"),
    Excluded(S, r"""$$\dfrac{\partial e}{\partial b} = \left(c\dfrac{\partial d}{\partial b} + d\dfrac{\partial c}{\partial b}\right) = (a+b) + (b+1) = 5$$""",
             "derivation: de/db summed over both paths (b feeds c and d)"),
    Excluded(S, r"""$$\dfrac{\partial f}{\partial v} = \sum_{i}\dfrac{\partial f}{\partial u_{i}} \dfrac{\partial u_{i}}{\partial v}$$""",
             "derivation: the multivariate chain rule in general"),
    Excluded(S, r"""$\dfrac{\partial z}{\partial a_{i}}$""", "derivation: the derivative of z by an input node"),
    Excluded(S, r"""$$\dfrac{\partial z}{\partial a_{i}} = \sum_{p \in parents(i)}\dfrac{\partial z}{\partial a_{p}} \dfrac{\partial a_{p}}{\partial a_{i}}$$""",
             "derivation: backpropagation's sum over a node's parents"),
    # the nabla notation
    Excluded(S, r"""$$\nabla_{x} = \dfrac{\partial }{\partial x}$$""", "derivation: defines the notation grad of x"),
    Excluded(S, r"""$$\nabla_{d} = \dfrac{\partial d}{\partial d}$$""", "derivation: backward step at the output d"),
    Excluded(S, r"""$$\nabla_{c} = \dfrac{\partial d}{\partial c}\nabla_{d}$$""", "derivation: backward step to c"),
    Excluded(S, r"""$$\nabla_{y} = \dfrac{\partial c}{\partial y}\nabla_{c}$$""", "derivation: backward step to y"),
    Excluded(S, r"""$$\nabla_{b} = \dfrac{\partial c}{\partial b}\nabla_{c}$$""", "derivation: backward step to b"),
    Excluded(S, r"""$$\nabla_{a} = \dfrac{\partial b}{\partial a}\nabla_{b}$$""", "derivation: backward step to a"),
    Excluded(S, r"""$$\nabla_{x} = \dfrac{\partial a}{\partial x}\nabla_{a}$$""", "derivation: backward step to x"),
    Excluded(S, r"""$\nabla_{x}$""", "derivation: a gradient asked for in exercise 2"),
    Excluded(S, r"""$\nabla_{y}$""", "derivation: a gradient asked for in exercise 2"),
    Excluded(S, r"""$\nabla_{z}$""", "derivation: a gradient asked for in exercise 2"),
    Excluded(S, r"""$\nabla_{t} = \bf{1} $""", "derivation: the output's gradient, a vector of ones"),
    Excluded(S, r"""$\nabla_{s} = \nabla_{z} = \bf{1} \otimes \nabla_{t}$""", "derivation: backward step through t = s + z"),
    Excluded(S, r"""$\nabla_{r} = 2\bf{r} \otimes \nabla_{s}$""", "derivation: backward step through s = r^2"),
    Excluded(S, r"""$\nabla_{y} = -\bf{1} \otimes \nabla_{r}$""", "derivation: backward step through r = q - y, to y"),
    Excluded(S, r"""$\nabla_{q} = \bf{1} \otimes \nabla_{r}$""", "derivation: backward step through r = q - y, to q"),
    Excluded(S, r"""$\nabla_{p} = \left\{\bf{p} \gt 0 \right\} \otimes \nabla_{q}$""", "derivation: backward step through the max (a mask)"),
    Excluded(S, r"""$\nabla_{w} = \bf{x^{T}}\nabla_{p}$""", "derivation: backward step through p = xW, to W"),
    Excluded(S, r"""$\nabla_{x} = \nabla_{p}\bf{W^{T}} $""", "derivation: backward step through p = xW, to x"),
    # exercise 3 solution
    Excluded(S, r"""$$\nabla_{w} = 1$$""", "derivation: the output's gradient is 1"),
    Excluded(S, r"""$$\nabla_{y} = \dfrac{\partial w}{\partial y}\nabla_{w} = 1$$""", "derivation: backward step to y = x^2"),
    Excluded(S, r"""$$\nabla_{x, 1} = \dfrac{\partial y}{\partial x}\nabla_{y} = 2x$$""", "derivation: x's gradient along the x^2 path"),
    Excluded(S, r"""$$\nabla_{z} = \dfrac{\partial w}{\partial z}\nabla_{w} = 1$$""", "derivation: backward step to z = 3x"),
    Excluded(S, r"""$$\nabla_{x, 2} = \dfrac{\partial z}{\partial x}\nabla_{z} = 3$$""", "derivation: x's gradient along the 3x path"),
    Excluded(S, r"""$$\nabla_{x, 0} = \nabla_{x, 1} + \nabla_{x, 2} = 2x + 3$$""", "derivation: the two paths' gradients summed"),
]

# ruff: noqa: E501, W291
# (the texts are pasted verbatim from the notes: long lines and trailing spaces are theirs)
"""Reading corpus from lecture notes 004, "Machine Learning Notes - Backpropagation"
(/work/shared/lecture-notes/004_23af9bde42817a70.txt).

Each block (vector dot product, vector product, matrix-vector, matrix-matrix, softmax with the
log-likelihood) is a LaTeX forward pass and a PyTorch cell checking the gradients. In the cells
`L.backward()` names the output, value lines (`torch.tensor([...], requires_grad=True, ...)`,
with `.reshape`) give the inputs, and the lines after the output (`.grad`, asserts, hand-made
Jacobians) do not feed it. The Jacobian and chain-rule formulas are in EXCLUDED.
"""

from tests.corpus.entry import Entry, Excluded

S = "lecture-notes 004"

CELL_CHAIN = r"""# Chain Rule

import torch
x = torch.tensor([5], requires_grad=True, dtype=torch.float64)
y = 2 * x
L = 3 * y
dL = 1
dy = 3 * dL
dx = 2 * dy
L.backward()
print(f'dL/dx: {dx}')
print(f'Pytorch autograd {x.grad}')

#"""

CELL_VECTOR_GRAD = r"""# Gradients with respect to a vector

# Chain Rule

import torch
x = torch.tensor([1, 2, 3], requires_grad=True, dtype=torch.float64)
y = torch.zeros(2)
y[0] = x[0] + 2*x[1]
y[1] = x[1] + 2*x[2]
L = y.sum()
dL = 1
dy = torch.tensor([1, 1])
dx = torch.tensor([[1, 0],[2, 1], [0, 2]]).matmul(dy)
L.backward()
print(f'dL/dx: {dx}')
print(f'Pytorch autograd {x.grad}')

#"""

CELL_DOT = r"""# Vector dot product
import torch
x = torch.tensor([1, 2, 3], requires_grad=True, dtype=torch.float64)
y = torch.tensor([3, 2, 1], requires_grad=True, dtype=torch.float64)
z = x.T.matmul(y)
z.retain_grad()
L = z.sum()
L.backward()
print(f'Pytorch autograd dz: {z.grad}')
print(f'Pytorch autograd dx: {x.grad}')
print(f'Pytorch autograd dy: {y.grad}')

dx = z.grad * y
assert(torch.allclose(dx, x.grad))
dy = z.grad * x
assert(torch.all(torch.isclose(dy, y.grad)))
#"""

CELL_OUTER = r"""# Vector product

import torch
x = torch.tensor([1, 2, 3], requires_grad=True, dtype=torch.float64).reshape(3,1)
y = torch.tensor([3, 2], requires_grad=True, dtype=torch.float64).reshape(1,2)
z = x.matmul(y)
x.retain_grad()
y.retain_grad()
z.retain_grad()
L = z.sum()
L.backward()
print(f'Pytorch autograd dz:\n {z.grad}')
print(f'Pytorch autograd dx:\n {x.grad}')
print(f'Pytorch autograd dy:\n {y.grad}')

dx = z.grad.matmul(y.T)
assert(torch.allclose(dx, x.grad))
dy = x.T.matmul(z.grad)
assert(torch.all(torch.isclose(dy, y.grad)))
#"""

CELL_MATVEC = r"""# Vector product

import torch
x = torch.tensor([1, 2], requires_grad=True, dtype=torch.float64).reshape(2,1)
w = torch.tensor([[1, 2],[2, 1]], requires_grad=True, dtype=torch.float64).reshape(2,2)
z = w.matmul(x)
x.retain_grad()
w.retain_grad()
z.retain_grad()
L = z.sum()
L.backward()
print(f'Pytorch autograd dz:\n {z.grad}')
print(f'Pytorch autograd dx:\n {x.grad}')
print(f'Pytorch autograd dy:\n {w.grad}')

dx = w.T.matmul(z.grad)
assert(torch.all(torch.isclose(dx, x.grad)))

dw = z.grad.matmul(x.T)
assert(torch.allclose(dw, w.grad))
#"""

CELL_MATMAT = r"""# Vector product

import torch
x = torch.tensor([[1, 2, 3], [3, 2, 1]], requires_grad=True, dtype=torch.float64).reshape(2,3)
w = torch.tensor([[1, 2, 3],[2, 1, 3], [3, 1, 2]], requires_grad=True, dtype=torch.float64).reshape(3,3)
z = x.matmul(w)
x.retain_grad()
w.retain_grad()
z.retain_grad()
L = z.sum()
L.backward()
print(f'Pytorch autograd dz:\n {z.grad}')
print(f'Pytorch autograd dx:\n {x.grad}')
print(f'Pytorch autograd dy:\n {w.grad}')

dw = x.T.matmul(z.grad)
assert(torch.all(torch.isclose(dw, w.grad)))

dx = z.grad.matmul(w.T)
assert(torch.allclose(dx, x.grad))
#"""

CELL_SOFTMAX = r"""# Vector product

import torch
s = torch.tensor([[1, 2]], requires_grad=True, dtype=torch.float64).reshape(2,1)
s_exp = torch.exp(s)
t = torch.sum(s_exp)
p = s_exp / t
s.retain_grad()
p.retain_grad()
# log likelihood
L = -torch.sum(torch.log(p))
L.backward()
print(f'Pytorch autograd dp:\n {p.grad}')
print(f'Pytorch autograd ds:\n {s.grad}')

J = torch.zeros(2, 2, dtype=p.dtype)
J[0, 0] = p[0]*(1-p[0]) # i = 0, i = 0
J[1, 0] = -p[0]*p[1]    # i = 0, j = 1
J[0, 1] = -p[1]*p[0]     # i = 1, j = 0
J[1, 1] = p[1]*(1-p[1]) # i = 0, i = 1
ds = J.matmul(p.grad)

assert(torch.allclose(ds, s.grad))
#"""

# The softmax probabilities of s = [1, 2] (as a vector), for the Jacobian lines.
P2 = [0.2689414213699951, 0.7310585786300049]

ENTRIES = [
    # --- chain rule, scalar (In [45]): y = 2x, L = 3y at x = 5; dL/dx = 6 ---
    Entry(
        id="torch-chain-cell",
        source=f"{S}, chain rule (In [45])",
        notation="torch",
        text=CELL_CHAIN,
        canonical="y = 2 * x\nL = 3 * y",
        torch="lambda x: 3 * (2 * x)",
        text_values={"x": [5]},
    ),
    Entry(
        id="torch-chain-line-y",
        source=f"{S}, chain rule: y = 2x",
        notation="torch",
        text=r"""y = 2 * x""",
        canonical="y = 2 * x",
        torch="lambda x: 2 * x",
        values={"x": [5.0]},
    ),
    Entry(
        id="torch-chain-line-L",
        source=f"{S}, chain rule: L = 3y",
        notation="torch",
        text=r"""L = 3 * y""",
        canonical="L = 3 * y",
        torch="lambda y: 3 * y",
        values={"y": [10.0]},
    ),
    Entry(
        id="torch-chain-forward",
        source=f"{S}, chain rule: the two forward lines",
        notation="torch",
        text=r"""y = 2 * x
L = 3 * y""",
        canonical="y = 2 * x\nL = 3 * y",
        torch="lambda x: 3 * (2 * x)",
        values={"x": 5.0},
    ),
    # The hand backward lines, each alone (dL = 1 is the seed the notes type).
    Entry(
        id="torch-chain-line-dy",
        source=f"{S}, chain rule: the hand gradient dy = 3 dL",
        notation="torch",
        text=r"""dy = 3 * dL""",
        canonical="dy = 3 * dL",
        torch="lambda dL: 3 * dL",
        values={"dL": 1.0},
    ),
    Entry(
        id="torch-chain-line-dx",
        source=f"{S}, chain rule: the hand gradient dx = 2 dy",
        notation="torch",
        text=r"""dx = 2 * dy""",
        canonical="dx = 2 * dy",
        torch="lambda dy: 2 * dy",
        values={"dy": 3.0},
    ),
    # --- gradients with respect to a vector (In [46]): dL/dx = [1, 3, 2].
    # y = torch.zeros(2) is a constant; y[0] = ... replaces an entry (a new node).
    # dy and dx after L are the notes' hand computation: they do not feed L.
    Entry(
        id="torch-vector-grad-cell",
        source=f"{S}, gradients with respect to a vector (In [46])",
        notation="torch",
        text=CELL_VECTOR_GRAD,
        canonical="y = zeros((2,))\n"
                  "y[0] = x[0] + 2 * x[1]\n"
                  "y[1] = x[1] + 2 * x[2]\n"
                  "L = sum(y)",
        torch="lambda x: torch.stack([x[0] + 2 * x[1], x[1] + 2 * x[2]]).sum()",
        text_values={"x": [1, 2, 3]},
    ),
    Entry(
        id="torch-vector-grad-forward",
        source=f"{S}, gradients with respect to a vector: the forward lines",
        notation="torch",
        text=r"""y = torch.zeros(2)
y[0] = x[0] + 2*x[1]
y[1] = x[1] + 2*x[2]
L = y.sum()""",
        canonical="y = zeros((2,))\n"
                  "y[0] = x[0] + 2 * x[1]\n"
                  "y[1] = x[1] + 2 * x[2]\n"
                  "L = sum(y)",
        torch="lambda x: torch.stack([x[0] + 2 * x[1], x[1] + 2 * x[2]]).sum()",
        values={"x": [1.0, -2.0, 0.5]},
    ),
    Entry(
        id="torch-line-L-sum",
        source=f"{S}, gradients with respect to a vector: L = y.sum()",
        notation="torch",
        text=r"""L = y.sum()""",
        canonical="L = sum(y)",
        torch="lambda y: y.sum()",
        values={"y": [5.0, 8.0]},
    ),
    # --- vector dot product z = x^T y (In [47]) ---
    Entry(
        id="torch-dot-latex",
        source=f"{S}, vector dot product: forward pass, [x] and [y] n x 1",
        notation="latex",
        text=r"""$$
z = x^Ty
$$""",
        canonical="z = transpose(x) @ y",
        torch="lambda x, y: x.T @ y",
        values={"x": [[1.0], [2.0], [3.0]], "y": [[3.0], [2.0], [1.0]]},
    ),
    Entry(
        id="torch-dot-cell",
        source=f"{S}, vector dot product (In [47])",
        notation="torch",
        text=CELL_DOT,
        canonical="z = transpose(x) @ y\nL = sum(z)",
        torch="lambda x, y: torch.sum(torch.dot(x, y))",
        text_values={"x": [1, 2, 3], "y": [3, 2, 1]},
    ),
    Entry(
        id="torch-dot-forward",
        source=f"{S}, vector dot product: the forward lines with retain_grad and backward",
        notation="torch",
        text=r"""z = x.T.matmul(y)
z.retain_grad()
L = z.sum()
L.backward()""",
        canonical="z = transpose(x) @ y\nL = sum(z)",
        torch="lambda x, y: torch.sum(torch.dot(x, y))",
        values={"x": [1.0, 2.0, 3.0], "y": [3.0, 2.0, 1.0]},
    ),
    Entry(
        id="torch-dot-line-z",
        source=f"{S}, vector dot product: z = x.T.matmul(y)",
        notation="torch",
        text=r"""z = x.T.matmul(y)""",
        canonical="z = transpose(x) @ y",
        torch="lambda x, y: torch.dot(x, y)",
        values={"x": [1.0, -2.0, 3.0], "y": [0.5, 2.0, 1.0]},
    ),
    Entry(
        id="torch-line-L-zsum",
        source=f"{S}, L = z.sum() (every block)",
        notation="torch",
        text=r"""L = z.sum()""",
        canonical="L = sum(z)",
        torch="lambda z: z.sum()",
        values={"z": [[1.0, 2.0], [3.0, 4.0]]},
    ),
    # --- vector product (outer) Z = xy, x m x 1, y 1 x n (In [48]) ---
    Entry(
        id="torch-outer-latex",
        source=f"{S}, vector product: forward pass, [x] m x 1, [y] 1 x n",
        notation="latex",
        text=r"""$$
Z = xy
$$""",
        canonical="Z = x @ y",
        torch="lambda x, y: x @ y",
        values={"x": [[1.0], [2.0], [3.0]], "y": [[3.0, 2.0]]},
    ),
    Entry(
        id="torch-outer-cell",
        source=f"{S}, vector product (In [48]): x reshaped to 3 x 1, y to 1 x 2",
        notation="torch",
        text=CELL_OUTER,
        canonical="z = x @ y\nL = sum(z)",
        torch="lambda x, y: torch.sum(x @ y)",
        text_values={"x": [[1], [2], [3]], "y": [[3, 2]]},
    ),
    Entry(
        id="torch-outer-line-z",
        source=f"{S}, vector product: z = x.matmul(y)",
        notation="torch",
        text=r"""z = x.matmul(y)""",
        canonical="z = x @ y",
        torch="lambda x, y: x @ y",
        values={"x": [[1.0], [2.0], [3.0]], "y": [[3.0, 2.0]]},
    ),
    # --- vector & matrix product Z = Wx (In [49]) ---
    Entry(
        id="torch-matvec-latex",
        source=f"{S}, vector & matrix product: forward pass, [x] D x 1, [W] C x D",
        notation="latex",
        text=r"""$$
Z = Wx
$$""",
        canonical="Z = W @ x",
        torch="lambda W, x: W @ x",
        values={"W": [[1.0, 2.0], [2.0, 1.0]], "x": [[1.0], [2.0]]},
    ),
    Entry(
        id="torch-matvec-cell",
        source=f"{S}, vector & matrix product (In [49])",
        notation="torch",
        text=CELL_MATVEC,
        canonical="z = w @ x\nL = sum(z)",
        torch="lambda x, w: torch.sum(w @ x)",
        text_values={"x": [[1], [2]], "w": [[1, 2], [2, 1]]},
    ),
    Entry(
        id="torch-matvec-line-z",
        source=f"{S}, vector & matrix product: z = w.matmul(x)",
        notation="torch",
        text=r"""z = w.matmul(x)""",
        canonical="z = w @ x",
        torch="lambda w, x: w @ x",
        values={"w": [[1.0, 2.0], [2.0, 1.0]], "x": [[1.0], [2.0]]},
    ),
    # --- matrix & matrix product Z = XW (In [50]) ---
    Entry(
        id="torch-matmat-latex",
        source=f"{S}, matrix & matrix product: forward pass, [x] N x D, [W] D x C",
        notation="latex",
        text=r"""$$
Z = XW
$$""",
        canonical="Z = X @ W",
        torch="lambda X, W: X @ W",
        values={"X": [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]],
                "W": [[1.0, 2.0, 3.0], [2.0, 1.0, 3.0], [3.0, 1.0, 2.0]]},
    ),
    Entry(
        id="torch-matmat-cell",
        source=f"{S}, matrix & matrix product (In [50])",
        notation="torch",
        text=CELL_MATMAT,
        canonical="z = x @ w\nL = sum(z)",
        torch="lambda x, w: torch.sum(x @ w)",
        text_values={"x": [[1, 2, 3], [3, 2, 1]], "w": [[1, 2, 3], [2, 1, 3], [3, 1, 2]]},
    ),
    Entry(
        id="torch-matmat-line-z",
        source=f"{S}, matrix & matrix product: z = x.matmul(w)",
        notation="torch",
        text=r"""z = x.matmul(w)""",
        canonical="z = x @ w",
        torch="lambda x, w: x @ w",
        values={"x": [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]],
                "w": [[1.0, 2.0, 3.0], [2.0, 1.0, 3.0], [3.0, 1.0, 2.0]]},
    ),
    # --- softmax with the log-likelihood (In [51]) ---
    # p_i and s_i: the index i is dropped (the whole vectors, elementwise). The last statement
    # is t, so t is the output of the two-line block.
    Entry(
        id="torch-softmax-latex",
        source=f"{S}, softmax: forward pass (p and t), [s] C x 1",
        notation="latex",
        text=r"""$$
p_i = \frac{e^{s_i}}{\sum_i{e^{s_i}}} \\
t = \sum_i{e^{s_i}}
$$""",
        canonical="p = e^s / sum(e^s)\nt = sum(e^s)",
        torch="lambda s: torch.sum(torch.exp(s))",
        values={"s": [[1.0], [2.0]]},
    ),
    Entry(
        id="torch-softmax-latex-p",
        source=f"{S}, softmax: the probabilities line alone",
        notation="latex",
        text=r"""p_i = \frac{e^{s_i}}{\sum_i{e^{s_i}}}""",
        canonical="p = e^s / sum(e^s)",
        torch="lambda s: torch.exp(s) / torch.sum(torch.exp(s))",
        values={"s": [1.0, 2.0, 0.5]},
        seed=[1.0, -2.0, 0.5],
    ),
    Entry(
        id="torch-softmax-latex-t",
        source=f"{S}, softmax: the normaliser line alone",
        notation="latex",
        text=r"""t = \sum_i{e^{s_i}}""",
        canonical="t = sum(e^s)",
        torch="lambda s: torch.sum(torch.exp(s))",
        values={"s": [1.0, 2.0, 0.5]},
    ),
    # The cell: the output is L (L.backward()); the Jacobian lines after it do not feed L.
    # ds = [-0.4621, 0.4621].
    Entry(
        id="torch-softmax-cell",
        source=f"{S}, softmax with log likelihood (In [51]): s reshaped to 2 x 1",
        notation="torch",
        text=CELL_SOFTMAX,
        canonical="s_exp = exp(s)\nt = sum(s_exp)\np = s_exp / t\nL = -sum(log(p))",
        torch="lambda s: -torch.sum(torch.log(torch.exp(s) / torch.sum(torch.exp(s))))",
        text_values={"s": [[1], [2]]},
    ),
    Entry(
        id="torch-softmax-forward",
        source=f"{S}, softmax with log likelihood: the forward lines, s typed",
        notation="torch",
        text=r"""s_exp = torch.exp(s)
t = torch.sum(s_exp)
p = s_exp / t
s.retain_grad()
p.retain_grad()
# log likelihood
L = -torch.sum(torch.log(p))""",
        canonical="s_exp = exp(s)\nt = sum(s_exp)\np = s_exp / t\nL = -sum(log(p))",
        torch="lambda s: -torch.sum(torch.log(torch.exp(s) / torch.sum(torch.exp(s))))",
        values={"s": [[1.0], [2.0], [-0.5]]},
    ),
    Entry(
        id="torch-softmax-line-exp",
        source=f"{S}, softmax: s_exp = torch.exp(s)",
        notation="torch",
        text=r"""s_exp = torch.exp(s)""",
        canonical="s_exp = exp(s)",
        torch="lambda s: torch.exp(s)",
        values={"s": [[1.0], [2.0]]},
    ),
    Entry(
        id="torch-softmax-line-t",
        source=f"{S}, softmax: t = torch.sum(s_exp)",
        notation="torch",
        text=r"""t = torch.sum(s_exp)""",
        canonical="t = sum(s_exp)",
        torch="lambda s_exp: torch.sum(s_exp)",
        values={"s_exp": [[2.718281828459045], [7.38905609893065]]},
    ),
    Entry(
        id="torch-softmax-line-p",
        source=f"{S}, softmax: p = s_exp / t",
        notation="torch",
        text=r"""p = s_exp / t""",
        canonical="p = s_exp / t",
        torch="lambda s_exp, t: s_exp / t",
        values={"s_exp": [[2.718281828459045], [7.38905609893065]], "t": 10.107337927389695},
    ),
    Entry(
        id="torch-softmax-line-L",
        source=f"{S}, softmax: the negative log-likelihood of all classes",
        notation="torch",
        text=r"""L = -torch.sum(torch.log(p))""",
        canonical="L = -sum(log(p))",
        torch="lambda p: -torch.sum(torch.log(p))",
        values={"p": [[0.2689414213699951], [0.7310585786300049]]},
    ),
    # The hand-made softmax Jacobian J[i, j] = dp_j/ds_i, with p typed (a vector): J is the
    # output. torch.zeros(2, 2, dtype=p.dtype) is a constant; each J[i, j] = ... a new node.
    Entry(
        id="torch-softmax-jacobian",
        source=f"{S}, softmax: the Jacobian built by hand, p typed",
        notation="torch",
        text=r"""J = torch.zeros(2, 2, dtype=p.dtype)
J[0, 0] = p[0]*(1-p[0]) # i = 0, i = 0
J[1, 0] = -p[0]*p[1]    # i = 0, j = 1
J[0, 1] = -p[1]*p[0]     # i = 1, j = 0
J[1, 1] = p[1]*(1-p[1]) # i = 0, i = 1""",
        canonical="J = zeros((2, 2))\n"
                  "J[0, 0] = p[0] * (1 - p[0])\n"
                  "J[1, 0] = -p[0] * p[1]\n"
                  "J[0, 1] = -p[1] * p[0]\n"
                  "J[1, 1] = p[1] * (1 - p[1])",
        torch="lambda p: torch.stack([torch.stack([p[0] * (1 - p[0]), -p[1] * p[0]]), "
              "torch.stack([-p[0] * p[1], p[1] * (1 - p[1])])])",
        values={"p": P2},
        seed=[[1.0, 0.5], [-2.0, 3.0]],
    ),
]

EXCLUDED = [
    Excluded(S, r"""$$
y = f_1(x) \\
L = f_2(y)
$$""", "a chain-rule schema: f_1 and f_2 are unnamed functions with no formula"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{y}} = \frac{\partial{f_2(y)}}{\partial{y}} \\
\frac{\partial{L}}{\partial{x}} = \frac{\partial{L}}{\partial{y}}\frac{\partial{y}}{\partial{x}} = \frac{\partial{f_2(y)}}{\partial{y}} \frac{\partial{f_1(x)}}{\partial{x}}
$$""", "derivation: the scalar chain rule"),
    Excluded(S, r"""$$
\begin{bmatrix}
y_1 \\
y_2
\end{bmatrix} = f(\begin{bmatrix}
x_1 \\
x_2 \\
x_3
\end{bmatrix}) = \begin{bmatrix}
f_{1}(x_1, x_2, x_3) \\
f_{2}(x_1, x_2, x_3)
\end{bmatrix}\\
L = g(\begin{bmatrix}
y_1 \\
y_2
\end{bmatrix}) \\ 
$$""", "a chain-rule schema: f, f_1, f_2 and g are unnamed vector functions with no formula"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{y}} = \begin{bmatrix} 
    \frac{\partial{g(y)}}{\partial{y_1}} \\ 
    \frac{\partial{g(y)}}{\partial{y_2}} \\ 
\end{bmatrix}\\
\frac{\partial{L}}{\partial{x}} = J_x^y \frac{\partial{L}}{\partial{y}} =
\begin{bmatrix} 
    \frac{\partial{f_1(x)}}{\partial{x_1}}, \frac{\partial{f_2(x)}}{\partial{x_1}}\\ 
    \frac{\partial{f_1(x)}}{\partial{x_2}}, \frac{\partial{f_2(x)}}{\partial{x_2}}\\ 
    \frac{\partial{f_1(x)}}{\partial{x_3}}, \frac{\partial{f_2(x)}}{\partial{x_3}}
\end{bmatrix} \frac{\partial{L}}{\partial{y}}
$$""", "derivation: the vector chain rule with the Jacobian"),
    Excluded(S, r"""$\textbf{x}$""", "a vector's name in prose"),
    Excluded(S, r"""$f(\textbf{x})$""", "an unnamed function of x in prose"),
    Excluded(S, r"""$\textbf{y}$""", "a vector's name in prose"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{\textbf{x}}} = J^{\textbf{y}}_\textbf{x}\frac{\partial{L}}{\partial{\textbf{y}}} 
$$""", "derivation: the local-gradient rule with the Jacobian"),
    Excluded(S, r"""$J^{\textbf{y}}_\textbf{x}$""", "derivation: names the Jacobian of y by x"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{x}} = \frac{\partial{L}}{\partial{z}}y \\
\frac{\partial{L}}{\partial{y}} = \frac{\partial{L}}{\partial{z}}x
$$""", "derivation: backward pass of the dot product"),
    Excluded(S, r"""$[x]_{nx1}, [y]_{nx1}$""", "shapes of x and y"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{x}} = \frac{\partial{L}}{\partial{Z}}y^T \\
\frac{\partial{L}}{\partial{y}} = x^T\frac{\partial{L}}{\partial{Z}}
$$""", "derivation: backward pass of the outer product"),
    Excluded(S, r"""$[x]_{mx1}, [y]_{1xn}, [Z]_{mxn}$""", "shapes of x, y and Z"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{x}} = W^T\frac{\partial{L}}{\partial{Z}} \\
\frac{\partial{L}}{\partial{W}} = \frac{\partial{L}}{\partial{Z}}x^T
$$""", "derivation: backward pass of the matrix-vector product"),
    Excluded(S, r"""$[x]_{Dx1}, [W]_{CxD}, [z]_{Cx1}$""", "shapes of x, W and z"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{X}} = \frac{\partial{L}}{\partial{Z}}W^T \\
\frac{\partial{L}}{\partial{W}} = X^T\frac{\partial{L}}{\partial{Z}}
$$""", "derivation: backward pass of the matrix-matrix product"),
    Excluded(S, r"""$[x]_{NxD}, [W]_{DxC}, [z]_{NxC}$""", "shapes of x, W and z"),
    Excluded(S, r"""$$
\frac{\partial{L}}{\partial{s}} = J^p_s\frac{\partial{L}}{\partial{p}} \\
J^{p_i}_{s_j} = -p_ip_j \ (i \neq j)\\
J^{p_i}_{s_i} = p_i(1-p_i)
$$""", "derivation: backward pass of softmax and its Jacobian's entries"),
    Excluded(S, r"""$[s]_{Cx1}, [p]_{Cx1}$""", "shapes of s and p"),
]

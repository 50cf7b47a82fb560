# ruff: noqa: E501, W291, W293
# (the texts are pasted verbatim from the notes: long lines and trailing spaces are theirs)
"""Reading corpus from lecture notes 003, "Gradient flow in neural networks"
(/work/shared/lecture-notes/003_52f6a322b864c45a.txt).

The notes check a two-layer network by hand against TensorFlow, then a three-layer network
written in NumPy (forward pass, and the backward pass by hand) against TensorFlow. Every code
line that computes is here, alone and in its cell; the hand-written derivatives (the
\\large\\frac{\\partial...} formulas) are in EXCLUDED.

The NumPy cell defines its own `sigmoid` and `relu` (the same functions as gradtrace's): the
canonical readings use gradtrace's `sigmoid` and `relu` for them, since the language keeps
those names; `sigmoidGradient` and `reluGradient` are the user's own defs.
"""

from tests.corpus.entry import Entry, Excluded

S = "lecture-notes 003"

# The two-layer example (TensorFlow check, In [19]).
X2 = [[0.1, 0.2]]
W1_2 = [[0.3, 0.4], [0.5, 0.6]]
W2_2 = [0.7, 0.8]

# The three-layer example (value cell In [14]).
X = [[0.9, 0.2, 0.7]]
Y = [[0.3, 0.7]]
W1 = [[0.3, 0.9, 0.5], [0.8, 0.1, 0.5], [0.8, 0.2, 0.7]]
W2 = [[0.7, 0.5], [0.1, 0.5], [0.6, 0.1]]
W3 = [[0.2, 0.3], [0.3, 0.4]]
NET = {"X": X, "y": Y, "W1": W1, "W2": W2, "W3": W3}

# --- the cells, verbatim ---
CELL_TF2 = r"""import tensorflow as tf
import numpy as np

#The inputs and initial weights
X = tf.constant([[0.1, 0.2]], dtype=tf.float32)
W1 = tf.constant([[0.3, 0.4], [0.5, 0.6]], dtype=tf.float32)
W2 = tf.constant([0.7, 0.8], dtype=tf.float32)
W2 = tf.reshape(W2,[2,1])
y = tf.constant(1.0, dtype=tf.float32)

# the network
z = tf.matmul(X, W1)
h = tf.sigmoid(z)
out = tf.sigmoid(tf.matmul(h,W2))

#Calculate the error
cost = (1/2.)*(out -y)**2 

#Compute the gradients
gradients = tf.gradients(cost, W1)[0]

sess = tf.Session()
sess.run(tf.global_variables_initializer())
out, grad = sess.run([out, gradients])
#print(out)
print ('The gradient at W1_22 is:', grad[1][1])"""

CELL_VALUES = r"""# Define inputs
n_hidden_1 = 3 # first hidden unit size
n_hidden_2 = 2 # second hidden unit size

X = np.array([[0.9, 0.2, 0.7]])
y = np.array([[0.3, 0.7]])
W1 = np.array([[0.3, 0.9, 0.5],[0.8, 0.1, 0.5],[0.8, 0.2, 0.7]])
W2 = np.array([[0.7, 0.5],[0.1, 0.5],[0.6, 0.1]])
W3 = np.array([[0.2, 0.3], [0.3, 0.4]])
print('Shapes of the Variables: x={}, y={}, W1={}, W2={}, W3={}'.format(X.shape, y.shape, W1.shape, W2.shape, W3.shape))"""

# The NumPy cell up to (and with) the error line: defs, forward pass, Error.
CELL_NP_FORWARD = r"""# Numpy Version

# sigmoid function
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

# sigmoid Gradient
def sigmoidGradient(z):
    return sigmoid(z) * (1 - sigmoid(z))

# relu activation
def relu(z):
    return (z > 0) * z

# relu gradient
def reluGradient(z):    
    return (z > 0) *1.

#------------------------
# Forward Pass
#------------------------
z1 = X.dot(W1)
h1 = relu(z1)
dh1 = reluGradient(z1) # Calculate the local gradient- derivative of activation
    
z2 = h1.dot(W2)
h2 = relu(z2)
dh2 = reluGradient(z2)
    
z3 = h2.dot(W3)
pred = sigmoid(z3)
dh3 = sigmoidGradient(z3)

#-----------------------
# Backpropagation
#-----------------------
Error = (1/2.)*(pred-y)**2"""

# The rest of the NumPy cell: the backward pass by hand, then the prints.
CELL_NP_BACKWARD = r"""df = (pred-y) # Error gradient

grad = df*dh3 # the global gradient is multiplied with the sigmoid gradient
dW3 = h2.T.dot(grad) # gradient for the weight W3
grad = grad.dot(W3.T) # gradient for the input h2

grad = grad*dh2 # the global gradient is multiplied with the relu gradient
dW2 = h1.T.dot(grad) # gradient for the weight W2
grad = grad.dot(W2.T) # gradient for the input h1

grad = grad*dh1 # the global gradient is multiplied with the relu gradient
dW1 = X.T.dot(grad) # gradient for the weight W1

print('The gradient of the weights, dW3:', dW3)
print('The gradient of the weights, dW2:', dW2)
print('The gradient of the weights, dW1:', dW1)"""

CELL_NP = CELL_NP_FORWARD + "\n" + CELL_NP_BACKWARD

CELL_TF3 = r"""#tensorflow version

X_tf = tf.constant(X)
y_tf = tf.constant(y)
W1_tf = tf.constant(W1)
W2_tf = tf.constant(W2)
W3_tf = tf.constant(W3)

pred_tf = tf.nn.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(tf.nn.relu(tf.matmul(X_tf, W1_tf)), W2_tf)), W3_tf))
cost = tf.reduce_sum((1/2.)*(pred_tf-y_tf)**2)

dW3_tf = tf.gradients(cost, W3_tf)[0]
dW2_tf = tf.gradients(cost, W2_tf)[0]
dW1_tf = tf.gradients(cost, W1_tf)[0]

with tf.Session() as sess:
    print('The tf gradient of the weights, dW3:',sess.run(dW3_tf))
    print('The tf gradient of the weights, dW2:',sess.run(dW2_tf))
    print('The tf gradient of the weights, dW1:',sess.run(dW1_tf))"""

# --- canonical readings of the NumPy cell ---
NP_DEFS = ("def sigmoidGradient(z): return sigmoid(z) * (1 - sigmoid(z))\n"
           "def reluGradient(z): return (z > 0) * 1.0\n")
NP_FORWARD = ("z1 = X @ W1\n"
              "h1 = relu(z1)\n"
              "dh1 = reluGradient(z1)\n"
              "z2 = h1 @ W2\n"
              "h2 = relu(z2)\n"
              "dh2 = reluGradient(z2)\n"
              "z3 = h2 @ W3\n"
              "pred = sigmoid(z3)\n"
              "dh3 = sigmoidGradient(z3)\n"
              "Error = (1 / 2) * (pred - y)^2")
NP_BACKWARD = ("df = pred - y\n"
               "grad = df * dh3\n"
               "dW3 = transpose(h2) @ grad\n"
               "grad = grad @ transpose(W3)\n"
               "grad = grad * dh2\n"
               "dW2 = transpose(h1) @ grad\n"
               "grad = grad @ transpose(W2)\n"
               "grad = grad * dh1\n"
               "dW1 = transpose(X) @ grad")
HIDDEN_SIZES = "n_hidden_1 = 3\nn_hidden_2 = 2\n"

# --- references, from the math ---
# The cost of the three-layer network: sigmoid(relu(relu(X W1) W2) W3), squared error / 2.
T_ERROR = ("lambda X, y, W1, W2, W3: 0.5 * (torch.sigmoid(torch.relu(torch.relu(X @ W1) @ W2) @ W3)"
           " - y) ** 2")
# dW1 as the notes' backward pass computes it: the error gradient times sigmoid'(z3), back
# through W3 and the relu mask of z2, back through W2 and the relu mask of z1, then X^T.
T_DW1 = ("lambda X, y, W1, W2, W3: [z1 := X @ W1, z2 := torch.relu(z1) @ W2, "
         "z3 := torch.relu(z2) @ W3, s := torch.sigmoid(z3), "
         "g := (s - y) * s * (1 - s), g := (g @ W3.T) * (z2 > 0).double(), "
         "g := (g @ W2.T) * (z1 > 0).double(), X.T @ g][-1]")
T_DW1_FROM = ("lambda pred, y, dh3, h2, W3, dh2, h1, W2, dh1, X: "
              "X.T @ (((((pred - y) * dh3) @ W3.T) * dh2) @ W2.T * dh1)")
T_COST = ("lambda X, y, W1, W2, W3: torch.sum(0.5 * (torch.sigmoid(torch.relu(torch.relu(X @ W1)"
          " @ W2) @ W3) - y) ** 2)")

ENTRIES = [
    # --- the example's inputs as LaTeX arrays: names inside the array, then the numbers.
    # gradtrace reads no matrix written as \begin{array} (a name = a matrix of names = a
    # matrix of numbers).
    Entry(
        id="flow-array-X",
        source=f"{S}, an example: the input X as a LaTeX array",
        notation="latex",
        text=r"""$X=[\begin{array}{ll}{x1\\x2} \end{array}] = [\begin{array}{ll}{0.1\\0.2} \end{array}]$""",
        canonical="",
        torch="",
        expect_error="",
    ),
    Entry(
        id="flow-array-W1",
        source=f"{S}, an example: the weights W1 as a LaTeX array",
        notation="latex",
        text=r"""$W1=[\begin{array}{cccc} W1_{11} & W2_{12} \\ W1_{21} & W2_{22}\end{array}]  =   [\begin{array}{cccc} 0.3 & 0.4 \\ 0.5 & 0.6\end{array}]$""",
        canonical="",
        torch="",
        expect_error="",
    ),
    Entry(
        id="flow-array-W2",
        source=f"{S}, an example: the weights W2 as a LaTeX array",
        notation="latex",
        text=r"""$W2=[\begin{array}{ll}{W2_{11}\\W2_{21}} \end{array}] = [\begin{array}{ll}{0.7\\0.8} \end{array}]$""",
        canonical="",
        torch="",
        expect_error="",
    ),
    # --- checking it in TensorFlow (In [19]): the output is named by tf.gradients(cost, W1);
    # the session lines are skipped. W2 is an input [0.7, 0.8], reshaped to 2 x 1.
    Entry(
        id="flow-tf2-cell",
        source=f"{S}, checking it in tensorflow (In [19])",
        notation="tf",
        text=CELL_TF2,
        canonical="W2 = reshape(W2, (2, 1))\n"
                  "z = X @ W1\n"
                  "h = sigmoid(z)\n"
                  "out = sigmoid(h @ W2)\n"
                  "cost = (1 / 2) * (out - y)^2",
        torch="lambda X, W1, W2, y: "
              "0.5 * (torch.sigmoid(torch.sigmoid(X @ W1) @ W2.reshape(2, 1)) - y) ** 2",
        text_values={"X": X2, "W1": W1_2, "W2": W2_2, "y": 1.0},
    ),
    Entry(
        id="flow-tf2-reshape-pair",
        source=f"{S}, checking it in tensorflow: W2 given as a row, reshaped to a column",
        notation="tf",
        text=r"""W2 = tf.constant([0.7, 0.8], dtype=tf.float32)
W2 = tf.reshape(W2,[2,1])""",
        canonical="W2 = reshape(W2, (2, 1))",
        torch="lambda W2: W2.reshape(2, 1)",
        text_values={"W2": W2_2},
    ),
    Entry(
        id="flow-tf2-line-reshape",
        source=f"{S}, checking it in tensorflow: the reshape line",
        notation="tf",
        text=r"""W2 = tf.reshape(W2,[2,1])""",
        canonical="W2 = reshape(W2, (2, 1))",
        torch="lambda W2: W2.reshape(2, 1)",
        values={"W2": W2_2},
    ),
    Entry(
        id="flow-tf2-network",
        source=f"{S}, checking it in tensorflow: the network lines",
        notation="tf",
        text=r"""# the network
z = tf.matmul(X, W1)
h = tf.sigmoid(z)
out = tf.sigmoid(tf.matmul(h,W2))""",
        canonical="z = X @ W1\nh = sigmoid(z)\nout = sigmoid(h @ W2)",
        torch="lambda X, W1, W2: torch.sigmoid(torch.sigmoid(X @ W1) @ W2)",
        values={"X": X2, "W1": W1_2, "W2": [[0.7], [0.8]]},
    ),
    Entry(
        id="flow-tf2-network-cost",
        source=f"{S}, checking it in tensorflow: the network and the error",
        notation="tf",
        text=r"""# the network
z = tf.matmul(X, W1)
h = tf.sigmoid(z)
out = tf.sigmoid(tf.matmul(h,W2))

#Calculate the error
cost = (1/2.)*(out -y)**2 """,
        canonical="z = X @ W1\nh = sigmoid(z)\nout = sigmoid(h @ W2)\n"
                  "cost = (1 / 2) * (out - y)^2",
        torch="lambda X, W1, W2, y: 0.5 * (torch.sigmoid(torch.sigmoid(X @ W1) @ W2) - y) ** 2",
        values={"X": X2, "W1": W1_2, "W2": [[0.7], [0.8]], "y": 1.0},
    ),
    Entry(
        id="flow-tf2-line-z",
        source=f"{S}, checking it in tensorflow: z = XW1",
        notation="tf",
        text=r"""z = tf.matmul(X, W1)""",
        canonical="z = X @ W1",
        torch="lambda X, W1: X @ W1",
        values={"X": X2, "W1": W1_2},
    ),
    Entry(
        id="flow-tf2-line-h",
        source=f"{S}, checking it in tensorflow: the hidden activation",
        notation="tf",
        text=r"""h = tf.sigmoid(z)""",
        canonical="h = sigmoid(z)",
        torch="lambda z: torch.sigmoid(z)",
        values={"z": [[0.13, 0.16]]},
    ),
    Entry(
        id="flow-tf2-line-out",
        source=f"{S}, checking it in tensorflow: the output unit",
        notation="tf",
        text=r"""out = tf.sigmoid(tf.matmul(h,W2))""",
        canonical="out = sigmoid(h @ W2)",
        torch="lambda h, W2: torch.sigmoid(h @ W2)",
        values={"h": [[0.5325, 0.5399]], "W2": [[0.7], [0.8]]},
    ),
    Entry(
        id="flow-tf2-line-cost",
        source=f"{S}, checking it in tensorflow: the error (with the notes' trailing space)",
        notation="tf",
        text=r"""cost = (1/2.)*(out -y)**2 """,
        canonical="cost = (1 / 2) * (out - y)^2",
        torch="lambda out, y: 0.5 * (out - y) ** 2",
        values={"out": [[0.6918]], "y": 1.0},
    ),
    # --- the three-layer network in NumPy (In [14] values, In [17] the network) ---
    Entry(
        id="flow-np-values-forward",
        source=f"{S}, an example: value cell In [14] and the NumPy forward pass of In [17], to the Error line",
        notation="numpy",
        text=CELL_VALUES + "\n\n" + CELL_NP_FORWARD,
        canonical=HIDDEN_SIZES + NP_DEFS + NP_FORWARD,
        torch=T_ERROR,
        text_values=NET,
    ),
    # The whole cell: the hand backward pass computes, so the output is its last statement,
    # dW1 (the prints are skipped).
    Entry(
        id="flow-np-values-whole",
        source=f"{S}, an example: value cell In [14] and the whole NumPy cell In [17] (output dW1)",
        notation="numpy",
        text=CELL_VALUES + "\n\n" + CELL_NP,
        canonical=HIDDEN_SIZES + NP_DEFS + NP_FORWARD + "\n" + NP_BACKWARD,
        torch=T_DW1,
        text_values=NET,
    ),
    Entry(
        id="flow-np-forward",
        source=f"{S}, an example: the NumPy cell In [17] to the Error line, values typed",
        notation="numpy",
        text=CELL_NP_FORWARD,
        canonical=NP_DEFS + NP_FORWARD,
        torch=T_ERROR,
        values=NET,
    ),
    Entry(
        id="flow-np-whole",
        source=f"{S}, an example: the whole NumPy cell In [17], values typed (output dW1)",
        notation="numpy",
        text=CELL_NP,
        canonical=NP_DEFS + NP_FORWARD + "\n" + NP_BACKWARD,
        torch=T_DW1,
        values=NET,
    ),
    # the backward pass block alone: its inputs are the forward pass's values
    Entry(
        id="flow-np-backprop-block",
        source=f"{S}, an example: the Backpropagation block of In [17] alone (output dW1)",
        notation="numpy",
        text=r"""#-----------------------
# Backpropagation
#-----------------------
Error = (1/2.)*(pred-y)**2
""" + CELL_NP_BACKWARD.split("\n\nprint")[0],
        canonical=NP_BACKWARD.replace("df = ", "Error = (1 / 2) * (pred - y)^2\ndf = ", 1),
        torch=T_DW1_FROM,
        values={"pred": [[0.6475, 0.7022]], "y": Y, "dh3": [[0.2282, 0.2091]],
                "h2": [[1.414, 1.084]], "W3": W3, "dh2": [[1.0, 0.0]],
                "h1": [[0.99, 0.97, 1.04]], "W2": W2, "dh1": [[1.0, 1.0, 0.0]], "X": X},
    ),
    # the defs alone: a def never called is the program
    Entry(
        id="flow-def-sigmoid",
        source=f"{S}, an example: the NumPy sigmoid def",
        notation="numpy",
        text=r"""# sigmoid function
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))""",
        canonical="1.0 / (1.0 + exp(-z))",
        torch="lambda z: 1 / (1 + torch.exp(-z))",
        values={"z": [[0.608, 0.8578]]},
    ),
    Entry(
        id="flow-def-sigmoid-gradient",
        source=f"{S}, an example: the NumPy sigmoid gradient def",
        notation="numpy",
        text=r"""# sigmoid Gradient
def sigmoidGradient(z):
    return sigmoid(z) * (1 - sigmoid(z))""",
        canonical="sigmoid(z) * (1 - sigmoid(z))",
        torch="lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z))",
        values={"z": [[0.608, -0.8578]]},
    ),
    Entry(
        id="flow-def-relu",
        source=f"{S}, an example: the NumPy relu def (a mask times z)",
        notation="numpy",
        text=r"""# relu activation
def relu(z):
    return (z > 0) * z""",
        canonical="(z > 0) * z",
        torch="lambda z: (z > 0).double() * z",
        values={"z": [[0.99, -0.97, 1.04]]},
    ),
    # The step (z > 0) has derivative 0 everywhere (0 at z = 0 too, as PyTorch).
    Entry(
        id="flow-def-relu-gradient",
        source=f"{S}, an example: the NumPy relu gradient def (with its trailing spaces)",
        notation="numpy",
        text=r"""# relu gradient
def reluGradient(z):    
    return (z > 0) *1.""",
        canonical="(z > 0) * 1.0",
        torch="lambda z: (z > 0).double() * 1.0 + 0 * z",
        values={"z": [[0.99, -0.97, 1.04]]},
    ),
    # the forward lines alone
    Entry(
        id="flow-np-line-z1",
        source=f"{S}, an example: z1 = X W1",
        notation="numpy",
        text=r"""z1 = X.dot(W1)""",
        canonical="z1 = X @ W1",
        torch="lambda X, W1: X @ W1",
        values={"X": X, "W1": W1},
    ),
    Entry(
        id="flow-np-line-h1",
        source=f"{S}, an example: h1 = relu(z1)",
        notation="numpy",
        text=r"""h1 = relu(z1)""",
        canonical="h1 = relu(z1)",
        torch="lambda z1: torch.relu(z1)",
        values={"z1": [[0.99, -0.97, 1.04]]},
    ),
    Entry(
        id="flow-np-line-z2",
        source=f"{S}, an example: z2 = h1 W2",
        notation="numpy",
        text=r"""z2 = h1.dot(W2)""",
        canonical="z2 = h1 @ W2",
        torch="lambda h1, W2: h1 @ W2",
        values={"h1": [[0.99, 0.97, 1.04]], "W2": W2},
    ),
    Entry(
        id="flow-np-line-h2",
        source=f"{S}, an example: h2 = relu(z2)",
        notation="numpy",
        text=r"""h2 = relu(z2)""",
        canonical="h2 = relu(z2)",
        torch="lambda z2: torch.relu(z2)",
        values={"z2": [[1.414, -1.084]]},
    ),
    Entry(
        id="flow-np-line-z3",
        source=f"{S}, an example: z3 = h2 W3",
        notation="numpy",
        text=r"""z3 = h2.dot(W3)""",
        canonical="z3 = h2 @ W3",
        torch="lambda h2, W3: h2 @ W3",
        values={"h2": [[1.414, 1.084]], "W3": W3},
    ),
    Entry(
        id="flow-np-line-pred",
        source=f"{S}, an example: the prediction",
        notation="numpy",
        text=r"""pred = sigmoid(z3)""",
        canonical="pred = sigmoid(z3)",
        torch="lambda z3: torch.sigmoid(z3)",
        values={"z3": [[0.608, 0.8578]]},
    ),
    Entry(
        id="flow-np-line-error",
        source=f"{S}, an example: the squared error",
        notation="numpy",
        text=r"""Error = (1/2.)*(pred-y)**2""",
        canonical="Error = (1 / 2) * (pred - y)^2",
        torch="lambda pred, y: 0.5 * (pred - y) ** 2",
        values={"pred": [[0.6475, 0.7022]], "y": Y},
    ),
    # the backward lines alone (each computes from names given values)
    Entry(
        id="flow-np-line-df",
        source=f"{S}, an example: the error gradient",
        notation="numpy",
        text=r"""df = (pred-y) # Error gradient""",
        canonical="df = pred - y",
        torch="lambda pred, y: pred - y",
        values={"pred": [[0.6475, 0.7022]], "y": Y},
    ),
    Entry(
        id="flow-np-line-grad-dh3",
        source=f"{S}, an example: times the sigmoid gradient",
        notation="numpy",
        text=r"""grad = df*dh3 # the global gradient is multiplied with the sigmoid gradient""",
        canonical="grad = df * dh3",
        torch="lambda df, dh3: df * dh3",
        values={"df": [[0.3475, 0.0022]], "dh3": [[0.2282, 0.2091]]},
    ),
    Entry(
        id="flow-np-line-dW3",
        source=f"{S}, an example: the gradient for W3",
        notation="numpy",
        text=r"""dW3 = h2.T.dot(grad) # gradient for the weight W3""",
        canonical="dW3 = transpose(h2) @ grad",
        torch="lambda h2, grad: h2.T @ grad",
        values={"h2": [[1.414, 1.084]], "grad": [[0.0793, 0.0005]]},
    ),
    # grad is an input and is assigned: the new grad is a node computed from the input.
    Entry(
        id="flow-np-line-grad-W3",
        source=f"{S}, an example: back through W3 to h2",
        notation="numpy",
        text=r"""grad = grad.dot(W3.T) # gradient for the input h2""",
        canonical="grad = grad @ transpose(W3)",
        torch="lambda grad, W3: grad @ W3.T",
        values={"grad": [[0.0793, 0.0005]], "W3": W3},
    ),
    Entry(
        id="flow-np-line-grad-dh2",
        source=f"{S}, an example: times the relu gradient of layer 2",
        notation="numpy",
        text=r"""grad = grad*dh2 # the global gradient is multiplied with the relu gradient""",
        canonical="grad = grad * dh2",
        torch="lambda grad, dh2: grad * dh2",
        values={"grad": [[0.016, 0.024]], "dh2": [[1.0, 0.0]]},
    ),
    Entry(
        id="flow-np-line-dW2",
        source=f"{S}, an example: the gradient for W2",
        notation="numpy",
        text=r"""dW2 = h1.T.dot(grad) # gradient for the weight W2""",
        canonical="dW2 = transpose(h1) @ grad",
        torch="lambda h1, grad: h1.T @ grad",
        values={"h1": [[0.99, 0.97, 1.04]], "grad": [[0.016, 0.024]]},
    ),
    Entry(
        id="flow-np-line-grad-W2",
        source=f"{S}, an example: back through W2 to h1",
        notation="numpy",
        text=r"""grad = grad.dot(W2.T) # gradient for the input h1""",
        canonical="grad = grad @ transpose(W2)",
        torch="lambda grad, W2: grad @ W2.T",
        values={"grad": [[0.016, 0.024]], "W2": W2},
    ),
    Entry(
        id="flow-np-line-dW1",
        source=f"{S}, an example: the gradient for W1",
        notation="numpy",
        text=r"""dW1 = X.T.dot(grad) # gradient for the weight W1""",
        canonical="dW1 = transpose(X) @ grad",
        torch="lambda X, grad: X.T @ grad",
        values={"X": X, "grad": [[0.0232, 0.0136, 0.012]]},
    ),
    # --- the TensorFlow version (In [18]) ---
    # tf.constant(X) of a name: the tensor X itself (X_tf is another name for it). The three
    # tf.gradients lines name the output, cost; the session block is skipped.
    Entry(
        id="flow-tf3-cell",
        source=f"{S}, an example: the tensorflow version In [18], values typed",
        notation="tf",
        text=CELL_TF3,
        canonical="X_tf = X\ny_tf = y\nW1_tf = W1\nW2_tf = W2\nW3_tf = W3\n"
                  "pred_tf = sigmoid(relu(relu(X_tf @ W1_tf) @ W2_tf) @ W3_tf)\n"
                  "cost = sum((1 / 2) * (pred_tf - y_tf)^2)",
        torch=T_COST,
        values=NET,
    ),
    Entry(
        id="flow-tf3-values-cell",
        source=f"{S}, an example: value cell In [14] and the tensorflow version In [18]",
        notation="tf",
        text=CELL_VALUES + "\n\n" + CELL_TF3,
        canonical=HIDDEN_SIZES
        + "X_tf = X\ny_tf = y\nW1_tf = W1\nW2_tf = W2\nW3_tf = W3\n"
          "pred_tf = sigmoid(relu(relu(X_tf @ W1_tf) @ W2_tf) @ W3_tf)\n"
          "cost = sum((1 / 2) * (pred_tf - y_tf)^2)",
        torch=T_COST,
        text_values=NET,
    ),
    Entry(
        id="flow-tf3-line-pred",
        source=f"{S}, an example: the tensorflow network in one line",
        notation="tf",
        text=r"""pred_tf = tf.nn.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(tf.nn.relu(tf.matmul(X_tf, W1_tf)), W2_tf)), W3_tf))""",
        canonical="pred_tf = sigmoid(relu(relu(X_tf @ W1_tf) @ W2_tf) @ W3_tf)",
        torch="lambda X_tf, W1_tf, W2_tf, W3_tf: "
              "torch.sigmoid(torch.relu(torch.relu(X_tf @ W1_tf) @ W2_tf) @ W3_tf)",
        values={"X_tf": X, "W1_tf": W1, "W2_tf": W2, "W3_tf": W3},
    ),
    Entry(
        id="flow-tf3-line-cost",
        source=f"{S}, an example: the tensorflow cost",
        notation="tf",
        text=r"""cost = tf.reduce_sum((1/2.)*(pred_tf-y_tf)**2)""",
        canonical="cost = sum((1 / 2) * (pred_tf - y_tf)^2)",
        torch="lambda pred_tf, y_tf: torch.sum(0.5 * (pred_tf - y_tf) ** 2)",
        values={"pred_tf": [[0.6475, 0.7022]], "y_tf": Y},
    ),
    Entry(
        id="flow-tf3-pred-cost",
        source=f"{S}, an example: the tensorflow network and cost lines",
        notation="tf",
        text=r"""pred_tf = tf.nn.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(tf.nn.relu(tf.matmul(X_tf, W1_tf)), W2_tf)), W3_tf))
cost = tf.reduce_sum((1/2.)*(pred_tf-y_tf)**2)""",
        canonical="pred_tf = sigmoid(relu(relu(X_tf @ W1_tf) @ W2_tf) @ W3_tf)\n"
                  "cost = sum((1 / 2) * (pred_tf - y_tf)^2)",
        torch="lambda X_tf, y_tf, W1_tf, W2_tf, W3_tf: torch.sum(0.5 * (torch.sigmoid("
              "torch.relu(torch.relu(X_tf @ W1_tf) @ W2_tf) @ W3_tf) - y_tf) ** 2)",
        values={"X_tf": X, "y_tf": Y, "W1_tf": W1, "W2_tf": W2, "W3_tf": W3},
    ),
]

EXCLUDED = [
    Excluded(S, r"""$\large \frac{\partial L}{\partial w} = \frac{\partial L}{\partial z} * \frac{\partial z }{\partial w}$""",
             "derivation: the chain rule at a multiplicative gate"),
    Excluded(S, r"""$\large \frac{\partial L}{\partial z}$""",
             "derivation: the incoming gradient"),
    Excluded(S, r"""$\large \frac{\partial z }{\partial w}=x$""",
             "derivation: the local gradient of z = wx by w"),
    Excluded(S, r"""$\large \frac{\partial L}{\partial w2}$""",
             "derivation: the gradient asked for at a node"),
    Excluded(S, r"""$\large \frac{\partial g}{\partial z}$""",
             "derivation: the activation's local gradient g'(z)"),
    Excluded(S, r"""$W1_{22}$""", "names one weight (row 2, column 2 of W1) in prose"),
    Excluded(S, r"""$\large \frac{\partial L}{\partial W_{22}}$""",
             "derivation: the gradient of the loss by the weight W1_22"),
    Excluded(S, r"""$\large \frac{\partial L}{\partial y} \small= \nabla L = -0.31$""",
             "derivation: the loss gradient at the output, a number worked by hand"),
    Excluded(S, r"""$\large \frac{\partial g{2}}{\partial z} \small=\nabla g2=0.2414$""",
             "derivation: the output sigmoid's local gradient, a number worked by hand"),
    Excluded(S, r"""$W2_{21}=0.8$""", "the value of one weight, given in prose (W2's second entry)"),
    Excluded(S, r"""$\large \frac{\partial g{1\_2}}{\partial z}$""",
             "derivation: the hidden sigmoid's local gradient"),
    Excluded(S, r"""$W^{T}* \nabla (incoming)$""",
             "derivation: the gradient rule for a layer's input, in words"),
    Excluded(S, r"""$X^{T}* \nabla (incoming)$""",
             "derivation: the gradient rule for a layer's weights, in words"),
]

# ruff: noqa: E501 (the corpus holds pasted lines verbatim)
"""Code as it is pasted from lecture notes, assignments and notebooks: NumPy, PyTorch, TensorFlow.

Each entry is a cell or a few lines copied with their imports, prints, comments and indentation.
`canonical` is the reading in gradtrace's own language (only the statements that compute); the
`torch` reference is written from the math, not from that reading. Values that the text writes
itself (value lines, a def's defaults) are in `text_values`; values a student would type because
the text gives none are in `values`.
"""

from tests.corpus.entry import Entry

# A batch of 32 examples, as in the makemore lecture (`torch.arange(32)`): a 5-letter embedding
# table, contexts of 3 letters, 3 classes. Small numbers so that tanh and exp stay well inside
# their ranges.
_C = [[((i * 3 + j * 5) % 7 - 3) / 4 for j in range(2)] for i in range(5)]
_X32 = [[(i + j * 2) % 5 for j in range(3)] for i in range(32)]
_Y32 = [(i * 2 + 1) % 3 for i in range(32)]
_W1_MLP = [[0.2, -0.4, 0.1, 0.3], [-0.3, 0.5, 0.2, -0.1], [0.4, 0.1, -0.2, 0.25],
           [0.1, -0.15, 0.3, 0.2], [-0.2, 0.3, 0.05, -0.4], [0.35, -0.1, -0.3, 0.15]]
_B1_MLP = [0.1, -0.05, 0.0, 0.2]
_W2_MLP = [[0.5, -0.3, 0.2], [-0.4, 0.6, 0.1], [0.3, 0.2, -0.5], [-0.1, -0.2, 0.4]]
_B2_MLP = [0.05, -0.1, 0.0]

# A small two-layer net: 3 examples, 2 features, 4 hidden units, 3 classes.
_X = [[1.0, -0.5], [0.3, 2.0], [-1.2, 0.8]]
_W1 = [[0.5, -0.3, 0.8, 0.1], [-0.2, 0.6, 0.4, -0.9]]
_B1 = [0.1, -0.1, 0.05, 0.2]
_W2 = [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [-0.5, 0.2, 0.3], [0.7, -0.1, 0.2]]
_B2 = [0.0, 0.1, -0.1]
_W = [[0.2, -0.5, 0.1], [1.5, 1.3, -0.3]]
_SCORES = [[1.2, -0.4, 0.3], [0.5, 2.0, -1.1], [-0.7, 0.1, 0.9]]


NUMPY = [
    # ---------------------------------------------------------------- cs231n optimization-2
    Entry(
        id="cs231n_opt2_simple_expression",
        source="cs231n optimization-2 (simple expressions: f(x,y,z) = (x + y) z)",
        notation="python",
        text=r"""# set some inputs
x = -2; y = 5; z = -4

# perform the forward pass
q = x + y # q becomes 3
f = q * z # f becomes -12
""",
        text_values={"x": -2, "y": 5, "z": -4},
        canonical="q = x + y\nf = q * z",
        torch="lambda x, y, z: (x + y) * z",
    ),
    Entry(
        id="cs231n_opt2_simple_expression_lines",
        source="cs231n optimization-2 (forward pass lines of f = (x + y) z)",
        notation="python",
        text=r"""q = x + y # q becomes 3
f = q * z # f becomes -12""",
        values={"x": -2, "y": 5, "z": -4},
        canonical="q = x + y\nf = q * z",
        torch="lambda x, y, z: (x + y) * z",
    ),
    Entry(
        id="cs231n_opt2_sigmoid_neuron",
        source="cs231n optimization-2 (sigmoid example, forward pass)",
        notation="python",
        text=r"""w = [2,-3,-3] # assume some random weights and data
x = [-1, -2]

# forward pass
dot = w[0]*x[0] + w[1]*x[1] + w[2]
f = 1.0 / (1 + math.exp(-dot)) # sigmoid function
""",
        text_values={"w": [2, -3, -3], "x": [-1, -2]},
        canonical="dot = w[0] * x[0] + w[1] * x[1] + w[2]\nf = 1.0 / (1 + exp(-dot))",
        torch="lambda w, x: 1.0 / (1 + torch.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))",
    ),
    Entry(
        id="cs231n_opt2_sigmoid_line",
        source="cs231n optimization-2 (sigmoid example, the gate line alone)",
        notation="python",
        text=r"""f = 1.0 / (1 + math.exp(-dot)) # sigmoid function""",
        values={"dot": 1.0},
        canonical="f = 1.0 / (1 + exp(-dot))",
        torch="lambda dot: torch.sigmoid(dot)",
    ),
    Entry(
        id="cs231n_opt2_staged_fxy",
        source="cs231n optimization-2 (staged computation of f(x,y) = (x + sigma(x)) / (sigma(y) + (x+y)^2))",
        notation="python",
        text=r"""# forward pass
sigy = 1.0 / (1 + math.exp(-y)) # sigmoid in numerator   #(1)
num = x + sigy # numerator                               #(2)
sigx = 1.0 / (1 + math.exp(-x)) # sigmoid in denominator #(3)
xpy = x + y                                              #(4)
xpysqr = xpy**2                                          #(5)
den = sigx + xpysqr # denominator                        #(6)
invden = 1.0 / den                                       #(7)
f = num * invden # done!                                 #(8)
""",
        values={"x": 3, "y": -4},
        canonical=(
            "sigy = 1.0 / (1 + exp(-y))\nnum = x + sigy\nsigx = 1.0 / (1 + exp(-x))\n"
            "xpy = x + y\nxpysqr = xpy^2\nden = sigx + xpysqr\ninvden = 1.0 / den\n"
            "f = num * invden"
        ),
        torch="lambda x, y: (x + torch.sigmoid(y)) / (torch.sigmoid(x) + (x + y) ** 2)",
    ),
    Entry(
        id="cs231n_opt2_matrix_multiply",
        source="cs231n optimization-2 (gradients for vectorized operations: D = W.dot(X))",
        notation="numpy",
        text=r"""D = W.dot(X)""",
        values={"W": [[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]], "X": [[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]]},
        canonical="D = W @ X",
        torch="lambda W, X: W @ X",
    ),
    # ---------------------------------------------------------------- cs231n linear-classify
    Entry(
        id="cs231n_linear_score_function",
        source="cs231n linear-classify (score function f(x_i, W, b) = W x_i + b, the cat image example)",
        notation="numpy",
        text=r"""import numpy as np

W = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0, 0.25, 0.2, -0.3]])
xi = np.array([56, 231, 24, 2])
b = np.array([1.1, 3.2, -1.2])

scores = W.dot(xi) + b
print(scores)  # [-96.8  437.9  61.95]
""",
        text_values={
            "W": [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0, 0.25, 0.2, -0.3]],
            "xi": [56, 231, 24, 2],
            "b": [1.1, 3.2, -1.2],
        },
        canonical="scores = W @ xi + b",
        torch="lambda W, xi, b: W @ xi + b",
    ),
    Entry(
        id="cs231n_linear_svm_example",
        source="cs231n linear-classify (multiclass SVM loss, the example scores [13, -7, 11] with delta 10)",
        notation="numpy",
        text=r"""scores = np.array([13, -7, 11])
y = 0
delta = 10
margins = np.maximum(0, scores - scores[y] + delta)
margins[y] = 0
loss_i = np.sum(margins)  # 8
""",
        text_values={"scores": [13, -7, 11]},
        canonical="margins = max(0, scores - scores[0] + 10)\nmargins[0] = 0\nloss_i = sum(margins)",
        torch=(
            "lambda scores: (torch.relu(scores - scores[0] + 10) "
            "* torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)).sum()"
        ),
    ),
    Entry(
        id="cs231n_linear_L_i_vectorized",
        source="cs231n linear-classify (L_i_vectorized, the half-vectorized SVM loss)",
        notation="numpy",
        text=r'''def L_i_vectorized(x, y, W):
  """
  A faster half-vectorized implementation. half-vectorized
  refers to the fact that for a single example the implementation contains
  no for loops, but there is still one loop over the examples (outside this function)
  """
  delta = 1.0
  scores = W.dot(x)
  # compute the margins for all classes in one vector operation
  margins = np.maximum(0, scores - scores[y] + delta)
  # on y-th position scores[y] - scores[y] canceled and gave delta. We want
  # to ignore the y-th position and only consider margin on max wrong class
  margins[y] = 0
  loss_i = np.sum(margins)
  return loss_i
''',
        values={"x": [1.0, -2.0, 0.5], "y": 1, "W": [[0.2, 0.1, -0.3], [0.4, -0.2, 0.6], [-0.5, 0.3, 0.1]]},
        labels=("y",),
        canonical=(
            "scores = W @ x\nmargins = max(0, scores - scores[y] + 1.0)\nmargins[y] = 0\n"
            "loss_i = sum(margins)"
        ),
        torch=(
            "lambda x, y, W: (torch.relu(W @ x - (W @ x)[y] + 1.0) "
            "* (torch.arange(W.shape[0]) != y)).sum()"
        ),
    ),
    Entry(
        id="cs231n_linear_softmax_example",
        source="cs231n linear-classify (softmax classifier, the cat scores [-2.85, 0.86, 0.28], correct class 2)",
        notation="numpy",
        text=r"""f = np.array([-2.85, 0.86, 0.28])
p = np.exp(f) / np.sum(np.exp(f))
L = -np.log(p[2])  # 1.04
""",
        text_values={"f": [-2.85, 0.86, 0.28]},
        canonical="p = exp(f) / sum(exp(f))\nL = -log(p[2])",
        torch="lambda f: -torch.log_softmax(f, 0)[2]",
    ),
    Entry(
        id="cs231n_linear_softmax_shifted",
        source="cs231n linear-classify (practical issues: numeric stability, the safe line)",
        notation="numpy",
        text=r"""p = np.exp(f) / np.sum(np.exp(f)) # safe to do, gives the correct answer""",
        values={"f": [-666.0, -333.0, 0.0]},
        canonical="p = exp(f) / sum(exp(f))",
        torch="lambda f: torch.softmax(f, 0)",
    ),
    # ---------------------------------------------------------------- cs231n case study
    Entry(
        id="cs231n_case_study_scores",
        source="cs231n neural-networks-case-study (linear classifier scores)",
        notation="numpy",
        text=r"""# compute class scores for a linear classifier
scores = np.dot(X, W) + b""",
        values={"X": _X, "W": _W, "b": [[0.1, 0.0, -0.2]]},
        canonical="scores = X @ W + b",
        torch="lambda X, W, b: X @ W + b",
    ),
    Entry(
        id="cs231n_case_study_probs",
        source="cs231n neural-networks-case-study (computing the loss: probabilities)",
        notation="numpy",
        text=r"""# get unnormalized probabilities
exp_scores = np.exp(scores)
# normalize them for each example
probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
""",
        values={"scores": _SCORES},
        canonical="exp_scores = exp(scores)\nprobs = exp_scores / sum(exp_scores, axis=1, keepdims=True)",
        torch="lambda scores: torch.softmax(scores, 1)",
    ),
    Entry(
        id="cs231n_case_study_loss",
        source="cs231n neural-networks-case-study (softmax linear classifier: scores, probabilities, loss with regularization)",
        notation="numpy",
        text=r"""reg = 1e-3 # regularization strength
num_examples = X.shape[0]
scores = np.dot(X, W) + b
exp_scores = np.exp(scores)
probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True) # [N x K]
correct_logprobs = -np.log(probs[range(num_examples),y])
# compute the loss: average cross-entropy loss and regularization
data_loss = np.sum(correct_logprobs)/num_examples
reg_loss = 0.5*reg*np.sum(W*W)
loss = data_loss + reg_loss
""",
        values={"X": _X, "W": _W, "b": [[0.1, 0.0, -0.2]], "y": [0, 2, 1]},
        labels=("y",),
        canonical=(
            "scores = X @ W + b\nexp_scores = exp(scores)\n"
            "probs = exp_scores / sum(exp_scores, axis=1, keepdims=True)\n"
            "correct_logprobs = -log(probs[arange(3), y])\n"
            "data_loss = sum(correct_logprobs) / 3\nreg_loss = 0.5 * 0.001 * sum(W * W)\n"
            "loss = data_loss + reg_loss"
        ),
        torch="lambda X, W, b, y: F.cross_entropy(X @ W + b, y) + 0.5 * 1e-3 * (W * W).sum()",
    ),
    Entry(
        id="cs231n_case_study_two_layer",
        source="cs231n neural-networks-case-study (training a neural network: 2-layer forward)",
        notation="numpy",
        text=r"""# evaluate class scores with a 2-layer Neural Network
hidden_layer = np.maximum(0, np.dot(X, W) + b) # note, ReLU activation
scores = np.dot(hidden_layer, W2) + b2
""",
        values={"X": _X, "W": _W1, "b": _B1, "W2": _W2, "b2": _B2},
        canonical="hidden_layer = max(0, X @ W + b)\nscores = hidden_layer @ W2 + b2",
        torch="lambda X, W, b, W2, b2: torch.relu(X @ W + b) @ W2 + b2",
    ),
    # ---------------------------------------------------------------- cs231n assignments
    Entry(
        id="cs231n_two_layer_forward_oneline",
        source="cs231n assignment 1, two-layer net (neural_net.py loss, forward pass on one line)",
        notation="numpy",
        text=r"""h = np.maximum(0, X.dot(W1) + b1); scores = h.dot(W2) + b2""",
        values={"X": _X, "W1": _W1, "b1": _B1, "W2": _W2, "b2": _B2},
        canonical="h = max(0, X @ W1 + b1)\nscores = h @ W2 + b2",
        torch="lambda X, W1, b1, W2, b2: torch.relu(X @ W1 + b1) @ W2 + b2",
    ),
    Entry(
        id="cs231n_two_layer_forward_todo",
        source="cs231n assignment 1, two-layer net (neural_net.py loss, the TODO block as filled in)",
        notation="numpy",
        text=r"""    # Compute the forward pass
    scores = None
    #############################################################################
    # TODO: Perform the forward pass, computing the class scores for the input. #
    # Store the result in the scores variable, which should be an array of      #
    # shape (N, C).                                                             #
    #############################################################################
    h1 = np.maximum(0, X.dot(W1) + b1)
    scores = h1.dot(W2) + b2
    #############################################################################
    #                              END OF YOUR CODE                             #
    #############################################################################
""",
        values={"X": _X, "W1": _W1, "b1": _B1, "W2": _W2, "b2": _B2},
        canonical="h1 = max(0, X @ W1 + b1)\nscores = h1 @ W2 + b2",
        torch="lambda X, W1, b1, W2, b2: torch.relu(X @ W1 + b1) @ W2 + b2",
    ),
    Entry(
        id="cs231n_layers_softmax_loss",
        source="cs231n assignment (layers.py softmax_loss, vectorized with the max subtracted)",
        notation="numpy",
        text=r"""shifted_logits = x - np.max(x, axis=1, keepdims=True)
Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
log_probs = shifted_logits - np.log(Z)
probs = np.exp(log_probs)
N = x.shape[0]
loss = -np.sum(log_probs[np.arange(N), y]) / N
""",
        values={"x": _SCORES, "y": [2, 0, 1]},
        labels=("y",),
        canonical=(
            "shifted_logits = x - amax(x, axis=1, keepdims=True)\n"
            "Z = sum(exp(shifted_logits), axis=1, keepdims=True)\n"
            "log_probs = shifted_logits - log(Z)\nprobs = exp(log_probs)\n"
            "loss = -sum(log_probs[arange(3), y]) / 3"
        ),
        torch="lambda x, y: F.cross_entropy(x, y)",
    ),
    Entry(
        id="cs231n_svm_margins_vectorized",
        source="cs231n assignment 1 (linear_svm.py svm_loss_vectorized, the margins)",
        notation="numpy",
        text=r"""  num_train = X.shape[0]
  scores = X.dot(W)
  correct_class_scores = scores[np.arange(num_train), y]
  margins = np.maximum(0, scores - correct_class_scores[:, np.newaxis] + 1.0)
""",
        values={"X": _X, "W": _W, "y": [0, 2, 1]},
        labels=("y",),
        canonical=(
            "scores = X @ W\ncorrect_class_scores = scores[arange(3), y]\n"
            "margins = max(0, scores - correct_class_scores[:, None] + 1.0)"
        ),
        torch=(
            "lambda X, W, y: torch.relu(X @ W - (X @ W)[torch.arange(3), y].unsqueeze(1) + 1.0)"
        ),
    ),
    Entry(
        id="cs231n_layers_relu_forward",
        source="cs231n assignment (layers.py relu_forward)",
        notation="numpy",
        text=r"""    out = np.maximum(0, x)""",
        values={"x": [[1.5, -0.3], [-2.0, 0.7]]},
        canonical="out = max(0, x)",
        torch="lambda x: torch.relu(x)",
    ),
    Entry(
        id="cs231n_layers_affine_forward",
        source="cs231n assignment (layers.py affine_forward, each example flattened to a row)",
        notation="numpy",
        text=r"""    out = x.reshape(x.shape[0], -1).dot(w) + b""",
        values={
            "x": [[[1.0, 2.0], [0.5, -1.0]], [[-0.3, 0.2], [1.5, 0.1]]],
            "w": [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [1.0, -1.1, 0.2]],
            "b": [0.1, 0.2, 0.3],
        },
        canonical="out = reshape(x, (2, -1)) @ w + b",
        torch="lambda x, w, b: x.reshape(2, -1) @ w + b",
    ),
    Entry(
        id="cs231n_batchnorm_forward_train",
        source="cs231n assignment 2 (layers.py batchnorm_forward, training mode)",
        notation="numpy",
        text=r"""        sample_mean = np.mean(x, axis=0)
        sample_var = np.var(x, axis=0)
        x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_hat + beta
""",
        values={
            "x": [[1.0, -2.0], [0.5, 0.3], [-1.2, 2.5], [0.4, 1.1]],
            "gamma": [1.5, 0.8],
            "beta": [0.1, -0.2],
            "eps": 1e-5,
        },
        canonical=(
            "sample_mean = mean(x, axis=0)\nsample_var = var(x, axis=0, correction=0)\n"
            "x_hat = (x - sample_mean) / sqrt(sample_var + eps)\nout = gamma * x_hat + beta"
        ),
        torch=(
            "lambda x, gamma, beta, eps: gamma * (x - x.mean(0)) "
            "/ torch.sqrt(((x - x.mean(0)) ** 2).mean(0) + eps) + beta"
        ),
    ),
    # ---------------------------------------------------------------- cs231n lecture slides
    Entry(
        id="cs231n_lecture_numpy_graph",
        source="cs231n lecture 8, deep learning software (computational graph in NumPy)",
        notation="numpy",
        text=r"""a = x * y
b = a + z
c = np.sum(b)
""",
        values={
            "x": [[0.5, -1.0], [2.0, 0.3]],
            "y": [[1.5, 0.2], [-0.4, 1.0]],
            "z": [[0.1, 0.2], [0.3, 0.4]],
        },
        canonical="a = x * y\nb = a + z\nc = sum(b)",
        torch="lambda x, y, z: (x * y + z).sum()",
    ),
    # ---------------------------------------------------------------- PyTorch tutorial warm-ups
    Entry(
        id="pytorch_examples_numpy_polynomial",
        source="PyTorch tutorial: Learning PyTorch with Examples (warm-up: NumPy, third-order polynomial)",
        notation="numpy",
        text=r"""    # Forward pass: compute predicted y
    # y = a + b x + c x^2 + d x^3
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss
    loss = np.square(y_pred - y).sum()
""",
        values={
            "a": 0.1, "b": -0.2, "c": 0.3, "d": 0.05,
            "x": [-1.0, -0.5, 0.0, 0.5, 1.0],
            "y": [-0.84, -0.48, 0.0, 0.48, 0.84],
        },
        canonical="y_pred = a + b * x + c * x^2 + d * x^3\nloss = sum(square(y_pred - y))",
        torch="lambda a, b, c, d, x, y: ((a + b * x + c * x ** 2 + d * x ** 3 - y) ** 2).sum()",
    ),
    Entry(
        id="pytorch_examples_numpy_two_layer",
        source="PyTorch tutorial: Learning PyTorch with Examples, 2017 edition (warm-up: NumPy two-layer net)",
        notation="numpy",
        text=r"""    # Forward pass: compute predicted y
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)

    # Compute and print loss
    loss = np.square(y_pred - y).sum()
    print(t, loss)
""",
        values={"x": _X, "w1": _W1, "w2": _W2, "y": [[0.5, -0.5, 1.0], [0.0, 1.0, -1.0], [1.0, 0.2, 0.3]]},
        canonical="h = x @ w1\nh_relu = max(h, 0)\ny_pred = h_relu @ w2\nloss = sum(square(y_pred - y))",
        torch="lambda x, w1, w2, y: ((torch.relu(x @ w1) @ w2 - y) ** 2).sum()",
    ),
    # ---------------------------------------------------------------- sigmoid definitions
    Entry(
        id="sigmoid_def_oneline",
        source="common NumPy sigmoid definition (one line)",
        notation="numpy",
        text=r"""def sigmoid(z): return 1/(1+np.exp(-z))""",
        values={"z": [-1.0, 0.0, 2.0]},
        canonical="1 / (1 + exp(-z))",
        torch="lambda z: 1 / (1 + torch.exp(-z))",
    ),
    Entry(
        id="dlai_sigmoid_def",
        source="deeplearning.ai Neural Networks and Deep Learning, week 2 (Python basics with NumPy: sigmoid)",
        notation="numpy",
        text=r'''def sigmoid(z):
    """
    Compute the sigmoid of z

    Arguments:
    z -- A scalar or numpy array of any size.

    Return:
    s -- sigmoid(z)
    """

    ### START CODE HERE ### (≈ 1 line of code)
    s = 1 / (1 + np.exp(-z))
    ### END CODE HERE ###

    return s
''',
        values={"z": [1.0, 2.0, 3.0]},
        canonical="s = 1 / (1 + exp(-z))",
        torch="lambda z: torch.sigmoid(z)",
    ),
    Entry(
        id="dlai_sigmoid_derivative_def",
        source="deeplearning.ai Neural Networks and Deep Learning, week 2 (sigmoid_derivative)",
        notation="numpy",
        text=r'''def sigmoid_derivative(x):
    """
    Compute the gradient (also called the slope or derivative) of the sigmoid function with respect to its input x.
    You can store the output of the sigmoid function into variables and then use it to calculate the gradient.

    Arguments:
    x -- A scalar or numpy array

    Return:
    ds -- Your computed gradient.
    """

    ### START CODE HERE ### (≈ 2 lines of code)
    s = 1 / (1 + np.exp(-x))
    ds = s * (1 - s)
    ### END CODE HERE ###

    return ds
''',
        values={"x": [1.0, 2.0, 3.0]},
        canonical="s = 1 / (1 + exp(-x))\nds = s * (1 - s)",
        torch="lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))",
    ),
    Entry(
        id="dlai_softmax_def",
        source="deeplearning.ai Neural Networks and Deep Learning, week 2 (softmax over rows)",
        notation="numpy",
        text=r'''def softmax(x):
    """Calculates the softmax for each row of the input x.

    Your code should work for a row vector and also for matrices of shape (m,n).

    Argument:
    x -- A numpy matrix of shape (m,n)

    Returns:
    s -- A numpy matrix equal to the softmax of x, of shape (m,n)
    """

    ### START CODE HERE ### (≈ 3 lines of code)
    # Apply exp() element-wise to x. Use np.exp(...).
    x_exp = np.exp(x)

    # Create a vector x_sum that sums each row of x_exp. Use np.sum(..., axis = 1, keepdims = True).
    x_sum = np.sum(x_exp, axis = 1, keepdims = True)

    # Compute softmax(x) by dividing x_exp by x_sum. It should automatically use numpy broadcasting.
    s = x_exp / x_sum

    ### END CODE HERE ###

    return s
''',
        values={"x": [[9.0, 2.0, 5.0, 0.0, 0.0], [7.0, 5.0, 0.0, 0.0, 0.0]]},
        canonical="x_exp = exp(x)\nx_sum = sum(x_exp, axis=1, keepdims=True)\ns = x_exp / x_sum",
        torch="lambda x: torch.softmax(x, 1)",
    ),
    Entry(
        id="dlai_L1_def",
        source="deeplearning.ai Neural Networks and Deep Learning, week 2 (L1 loss)",
        notation="numpy",
        text=r'''def L1(yhat, y):
    """
    Arguments:
    yhat -- vector of size m (predicted labels)
    y -- vector of size m (true labels)

    Returns:
    loss -- the value of the L1 loss function defined above
    """

    ### START CODE HERE ### (≈ 1 line of code)
    loss = np.sum(np.abs(y - yhat))
    ### END CODE HERE ###

    return loss
''',
        values={"yhat": [0.9, 0.2, 0.1, 0.4, 0.9], "y": [1, 0, 0, 1, 1]},
        canonical="loss = sum(abs(y - yhat))",
        torch="lambda yhat, y: (y - yhat).abs().sum()",
    ),
    Entry(
        id="dlai_L2_def",
        source="deeplearning.ai Neural Networks and Deep Learning, week 2 (L2 loss with np.dot)",
        notation="numpy",
        text=r'''def L2(yhat, y):
    """
    Arguments:
    yhat -- vector of size m (predicted labels)
    y -- vector of size m (true labels)

    Returns:
    loss -- the value of the L2 loss function defined above
    """

    ### START CODE HERE ### (≈ 1 line of code)
    loss = np.dot((y - yhat),(y - yhat))
    ### END CODE HERE ###

    return loss
''',
        values={"yhat": [0.9, 0.2, 0.1, 0.4, 0.9], "y": [1, 0, 0, 1, 1]},
        canonical="loss = dot(y - yhat, y - yhat)",
        torch="lambda yhat, y: ((y - yhat) ** 2).sum()",
    ),
    Entry(
        id="dlai_normalize_rows_def",
        source="deeplearning.ai Neural Networks and Deep Learning, week 2 (normalizeRows)",
        notation="numpy",
        text=r'''def normalizeRows(x):
    """
    Implement a function that normalizes each row of the matrix x (to have unit length).

    Argument:
    x -- A numpy matrix of shape (n, m)

    Returns:
    x -- The normalized (by row) numpy matrix. You are allowed to modify x.
    """

    ### START CODE HERE ### (≈ 2 lines of code)
    # Compute x_norm as the norm 2 of x. Use np.linalg.norm(..., ord = 2, axis = ..., keepdims = True)
    x_norm = np.linalg.norm(x, ord = 2, axis = 1, keepdims = True)

    # Divide x by its norm.
    x = x / x_norm
    ### END CODE HERE ###

    return x
''',
        values={"x": [[0.0, 3.0, 4.0], [1.0, 6.0, 4.0]]},
        canonical="x_norm = norm(x, axis=1, keepdims=True)\nx = x / x_norm",
        torch="lambda x: x / torch.sqrt((x * x).sum(1, keepdim=True))",
    ),
    Entry(
        id="dlai_propagate_forward",
        source="deeplearning.ai Neural Networks and Deep Learning, week 2 (logistic regression propagate: forward and cost)",
        notation="numpy",
        text=r"""    m = X.shape[1]

    # FORWARD PROPAGATION (FROM X TO COST)
    ### START CODE HERE ### (≈ 2 lines of code)
    A = sigmoid(np.dot(w.T, X) + b)            # compute activation
    cost = -1/m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))  # compute cost
    ### END CODE HERE ###
""",
        values={
            "w": [[1.0], [2.0]],
            "b": 2.0,
            "X": [[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]],
            "Y": [[1, 0, 1]],
        },
        canonical=(
            "A = sigmoid(transpose(w) @ X + b)\n"
            "cost = -1 / 3 * sum(Y * log(A) + (1 - Y) * log(1 - A))"
        ),
        torch=(
            "lambda w, b, X, Y: -1 / 3 * (Y * torch.log(torch.sigmoid(w.T @ X + b)) "
            "+ (1 - Y) * torch.log(1 - torch.sigmoid(w.T @ X + b))).sum()"
        ),
    ),
    Entry(
        id="dlai_planar_forward_propagation",
        source="deeplearning.ai Neural Networks and Deep Learning, week 3 (planar data: forward_propagation)",
        notation="numpy",
        text=r"""    # Implement Forward Propagation to calculate A2 (probabilities)
    ### START CODE HERE ### (≈ 4 lines of code)
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    ### END CODE HERE ###
""",
        values={
            "W1": [[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1], [0.4, 0.4]],
            "X": [[1.6, -0.6, 0.5], [-2.3, 0.9, -0.7]],
            "b1": [[0.1], [-0.2], [0.0], [0.3]],
            "W2": [[0.7, -0.5, 0.2, 0.1]],
            "b2": [[-0.1]],
        },
        canonical="Z1 = W1 @ X + b1\nA1 = tanh(Z1)\nZ2 = W2 @ A1 + b2\nA2 = sigmoid(Z2)",
        torch="lambda W1, X, b1, W2, b2: torch.sigmoid(W2 @ torch.tanh(W1 @ X + b1) + b2)",
    ),
    Entry(
        id="dlai_planar_compute_cost",
        source="deeplearning.ai Neural Networks and Deep Learning, week 3 (planar data: compute_cost)",
        notation="numpy",
        text=r"""    m = Y.shape[1] # number of examples

    # Compute the cross-entropy cost
    ### START CODE HERE ### (≈ 2 lines of code)
    logprobs = np.multiply(np.log(A2), Y) + np.multiply((1 - Y), np.log(1 - A2))
    cost = - np.sum(logprobs) / m
    ### END CODE HERE ###
""",
        values={"A2": [[0.5002307, 0.49985831, 0.50023963]], "Y": [[1, 0, 0]]},
        canonical="logprobs = log(A2) * Y + (1 - Y) * log(1 - A2)\ncost = -sum(logprobs) / 3",
        torch="lambda A2, Y: -(torch.log(A2) * Y + (1 - Y) * torch.log(1 - A2)).sum() / 3",
    ),
    Entry(
        id="dlai_deep_compute_cost",
        source="deeplearning.ai Neural Networks and Deep Learning, week 4 (deep network: compute_cost with np.dot and .T)",
        notation="numpy",
        text=r"""    cost = (1./m) * (-np.dot(Y,np.log(AL).T) - np.dot(1-Y, np.log(1-AL).T))""",
        values={"m": 3.0, "Y": [[1, 1, 0]], "AL": [[0.8, 0.9, 0.4]]},
        canonical="cost = (1.0 / m) * (-(Y @ transpose(log(AL))) - (1 - Y) @ transpose(log(1 - AL)))",
        torch=(
            "lambda m, Y, AL: (1.0 / m) * (-(Y @ torch.log(AL).T) - (1 - Y) @ torch.log(1 - AL).T)"
        ),
    ),
    Entry(
        id="dlai_l2_regularization_cost",
        source="deeplearning.ai Improving Deep Neural Networks, week 1 (compute_cost_with_regularization)",
        notation="numpy",
        text=r"""    L2_regularization_cost = (1./m)*(lambd/2)*(np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))""",
        values={
            "m": 5.0,
            "lambd": 0.1,
            "W1": [[1.6, -0.6], [-0.5, -1.1]],
            "W2": [[0.9, -2.3], [1.7, -0.8]],
            "W3": [[0.3, -0.2]],
        },
        canonical=(
            "L2_regularization_cost = (1.0 / m) * (lambd / 2) "
            "* (sum(square(W1)) + sum(square(W2)) + sum(square(W3)))"
        ),
        torch=(
            "lambda m, lambd, W1, W2, W3: (1.0 / m) * (lambd / 2) "
            "* ((W1 ** 2).sum() + (W2 ** 2).sum() + (W3 ** 2).sum())"
        ),
    ),
    # ---------------------------------------------------------------- ReLU spellings
    Entry(
        id="relu_np_maximum",
        source="Stack Overflow: How to implement the ReLU function in Numpy (np.maximum answer)",
        notation="numpy",
        text=r"""np.maximum(x, 0)""",
        values={"x": [[-1.5, 2.0], [0.5, -0.2]]},
        canonical="max(x, 0)",
        torch="lambda x: torch.relu(x)",
    ),
    Entry(
        id="relu_mask_product",
        source="Stack Overflow: How to implement the ReLU function in Numpy (x * (x > 0) answer)",
        notation="numpy",
        text=r"""x * (x > 0)""",
        values={"x": [[-1.5, 2.0], [0.5, -0.2]]},
        canonical="x * (x > 0)",
        torch="lambda x: x * (x > 0)",
    ),
    Entry(
        id="relu_abs_formula",
        source="Stack Overflow: How to implement the ReLU function in Numpy ((abs(x) + x) / 2 answer)",
        notation="numpy",
        text=r"""(abs(x) + x) / 2""",
        values={"x": [[-1.5, 2.0], [0.5, -0.2]]},
        canonical="(abs(x) + x) / 2",
        torch="lambda x: (x.abs() + x) / 2",
    ),
    Entry(
        id="relu_mask_first",
        source="common NumPy ReLU idiom, written for this corpus ((z > 0) * z: the mask is 0 or 1)",
        notation="numpy",
        text=r"""a = (z > 0) * z  # relu: the mask (z > 0) is 0 or 1""",
        values={"z": [-1.0, 0.5, 3.0]},
        canonical="a = (z > 0) * z",
        torch="lambda z: (z > 0) * z",
    ),
    Entry(
        id="np_max_axis0_not_relu",
        source="Stack Overflow: numpy max vs maximum (np.max(p, 0) taken for a ReLU; it reduces axis 0)",
        notation="numpy",
        text=r"""a = np.max(p, 0)  # meant as ReLU""",
        values={"p": [[1.0, -2.0], [3.0, 4.0], [-0.5, 5.0]]},
        canonical="a = amax(p, axis=0)",
        torch="lambda p: p.amax(0)",
    ),
    # ---------------------------------------------------------------- Karpathy
    Entry(
        id="karpathy_yes_backprop_sigmoid",
        source="Karpathy, Yes you should understand backprop (vanishing gradients on sigmoids, forward pass)",
        notation="numpy",
        text=r"""z = 1/(1 + np.exp(-np.dot(W, x))) # forward pass""",
        values={"W": [[0.5, -1.0, 0.2], [1.5, 0.3, -0.4]], "x": [1.0, 2.0, -1.0]},
        canonical="z = 1 / (1 + exp(-(W @ x)))",
        torch="lambda W, x: torch.sigmoid(W @ x)",
    ),
    Entry(
        id="karpathy_yes_backprop_relu",
        source="Karpathy, Yes you should understand backprop (dying ReLUs, forward pass)",
        notation="numpy",
        text=r"""z = np.maximum(0, np.dot(W, x)) # forward pass""",
        values={"W": [[0.5, -1.0, 0.2], [-1.5, 0.3, -0.4]], "x": [1.0, 2.0, -1.0]},
        canonical="z = max(0, W @ x)",
        torch="lambda W, x: torch.relu(W @ x)",
    ),
    # ---------------------------------------------------------------- CS229 and softmax recipes
    Entry(
        id="cs229_logistic_regression_loss",
        source="CS229 notes, logistic regression (hypothesis and average log-loss, as written in NumPy)",
        notation="numpy",
        text=r"""h = 1. / (1 + np.exp(-X.dot(theta)))
J = -np.mean(y * np.log(h) + (1 - y) * np.log(1 - h))
""",
        values={"X": [[1.0, 0.5], [1.0, -1.5], [1.0, 2.0]], "theta": [0.2, -0.4], "y": [1, 0, 1]},
        canonical="h = 1.0 / (1 + exp(-(X @ theta)))\nJ = -mean(y * log(h) + (1 - y) * log(1 - h))",
        torch=(
            "lambda X, theta, y: -(y * torch.log(torch.sigmoid(X @ theta)) "
            "+ (1 - y) * torch.log(1 - torch.sigmoid(X @ theta))).mean()"
        ),
    ),
    Entry(
        id="cs229_least_squares_cost",
        source="CS229 notes, linear regression (least-squares cost J(theta), as written in NumPy)",
        notation="numpy",
        text=r"""J = 0.5 * np.sum((X.dot(theta) - y) ** 2)""",
        values={"X": [[1.0, 0.5], [1.0, -1.5], [1.0, 2.0]], "theta": [0.2, -0.4], "y": [0.3, 1.0, -0.6]},
        canonical="J = 0.5 * sum((X @ theta - y)^2)",
        torch="lambda X, theta, y: 0.5 * ((X @ theta - y) ** 2).sum()",
    ),
    Entry(
        id="so_softmax_stable_def",
        source="Stack Overflow: How to implement the Softmax function in Python (numerically stable answer)",
        notation="numpy",
        text=r'''def softmax(x):
    """Compute softmax values for each sets of scores in x."""
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum()
''',
        values={"x": [3.0, 1.0, 0.2]},
        canonical="e_x = exp(x - amax(x))\ne_x / sum(e_x)",
        torch="lambda x: torch.softmax(x, 0)",
    ),
    Entry(
        id="so_softmax_axis0_def",
        source="Stack Overflow: How to implement the Softmax function in Python (axis=0 answer)",
        notation="numpy",
        text=r'''def softmax(x):
    """Compute softmax values for each sets of scores in x."""
    return np.exp(x) / np.sum(np.exp(x), axis=0)
''',
        values={"x": [3.0, 1.0, 0.2]},
        canonical="exp(x) / sum(exp(x), axis=0)",
        torch="lambda x: torch.exp(x) / torch.exp(x).sum(0)",
    ),
    Entry(
        id="colah_backprop_graph",
        source="colah, Calculus on Computational Graphs: Backpropagation (e = (a + b) * (b + 1))",
        notation="python",
        text=r"""c = a + b
d = b + 1
e = c * d
""",
        values={"a": 2, "b": 1},
        canonical="c = a + b\nd = b + 1\ne = c * d",
        torch="lambda a, b: (a + b) * (b + 1)",
    ),
    Entry(
        id="np_array_value_lines_float",
        source="cell in the style of the cs231n Python/NumPy tutorial, written for this corpus (np.array value lines, 2. numbers)",
        notation="numpy",
        text=r"""import numpy as np

x = np.array([1., 2., 3.])
w = np.array([0.5, -1., 2.])
b = 2.
z = np.dot(w, x) + b
print(z)
""",
        text_values={"x": [1.0, 2.0, 3.0], "w": [0.5, -1.0, 2.0]},
        canonical="z = dot(w, x) + 2.0",
        torch="lambda x, w: w @ x + 2.0",
    ),
]


TORCH = [
    # ---------------------------------------------------------------- PyTorch 60-minute blitz
    Entry(
        id="pytorch_blitz_autograd_Q",
        source="PyTorch 60-minute blitz, A Gentle Introduction to torch.autograd (differentiation in autograd)",
        notation="torch",
        text=r"""import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3*a**3 - b**2

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)
""",
        text_values={"a": [2.0, 3.0], "b": [6.0, 4.0]},
        text_seed=[1.0, 1.0],
        canonical="Q = 3 * a^3 - b^2",
        torch="lambda a, b: 3 * a ** 3 - b ** 2",
    ),
    Entry(
        id="pytorch_blitz_autograd_ones",
        source="PyTorch 60-minute blitz, Autograd: automatic differentiation (2018 edition, x = torch.ones(2, 2))",
        notation="torch",
        text=r"""x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
z = y * y * 3
out = z.mean()

print(z, out)
out.backward()
print(x.grad)
""",
        text_values={"x": [[1.0, 1.0], [1.0, 1.0]]},
        canonical="y = x + 2\nz = y * y * 3\nout = mean(z)",
        torch="lambda x: ((x + 2) * (x + 2) * 3).mean()",
    ),
    Entry(
        id="pytorch_blitz_autograd_lines",
        source="PyTorch 60-minute blitz, Autograd (2018 edition, the operations alone)",
        notation="torch",
        text=r"""y = x + 2
z = y * y * 3
out = z.mean()
out.backward()
""",
        values={"x": [[1.0, 1.0], [1.0, 1.0]]},
        canonical="y = x + 2\nz = y * y * 3\nout = mean(z)",
        torch="lambda x: ((x + 2) * (x + 2) * 3).mean()",
    ),
    Entry(
        id="pytorch_blitz_vector_jacobian",
        source="PyTorch 60-minute blitz, Autograd (2018 edition, vector-Jacobian product y.backward(v))",
        notation="torch",
        text=r"""y = x * 2

v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)

print(x.grad)
""",
        values={"x": [0.5, -1.2, 2.0]},
        text_seed=[0.1, 1.0, 0.0001],
        canonical="y = x * 2",
        torch="lambda x: x * 2",
    ),
    # ---------------------------------------------------------------- PyTorch autograd tutorial
    Entry(
        id="pytorch_autograd_basics_bce",
        source="PyTorch tutorial: Automatic Differentiation with torch.autograd (one-layer network)",
        notation="torch",
        text=r"""z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
""",
        values={
            "x": [1.0, 1.0, 1.0, 1.0, 1.0],
            "w": [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [1.0, -1.1, 0.2], [0.3, 0.1, -0.4]],
            "b": [0.1, -0.3, 0.2],
            "y": [0.0, 0.0, 0.0],
        },
        canonical="z = x @ w + b\nloss = binary_cross_entropy_with_logits(z, y)",
        torch="lambda x, w, b, y: F.binary_cross_entropy_with_logits(x @ w + b, y)",
    ),
    Entry(
        id="pytorch_autograd_jacobian_product",
        source="PyTorch tutorial: Automatic Differentiation with torch.autograd (tensor gradients and Jacobian products)",
        notation="torch",
        text=r"""out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
""",
        values={"inp": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]},
        text_seed=[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
        canonical="out = transpose((inp + 1)^2)",
        torch="lambda inp: ((inp + 1) ** 2).T",
    ),
    Entry(
        id="pytorch_vjp_backward_dy",
        source="PyTorch Tensor.backward(gradient) on a non-scalar output, written for this corpus",
        notation="torch",
        text=r"""x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x ** 2
dy = torch.tensor([1.0, 0.1, 0.01])
y.backward(dy)
print(x.grad)  # 2 * x * dy
""",
        text_values={"x": [1.0, 2.0, 3.0]},
        text_seed=[1.0, 0.1, 0.01],
        canonical="y = x^2",
        torch="lambda x: x ** 2",
    ),
    # ---------------------------------------------------------------- Learning PyTorch with Examples
    Entry(
        id="pytorch_examples_autograd_polynomial",
        source="PyTorch tutorial: Learning PyTorch with Examples (PyTorch: Tensors and autograd, polynomial)",
        notation="torch",
        text=r"""    # Forward pass: compute predicted y using operations on Tensors.
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss using operations on Tensors.
    # Now loss is a Tensor of shape (1,)
    # loss.item() gets the scalar value held in the loss.
    loss = (y_pred - y).pow(2).sum()

    # Use autograd to compute the backward pass. This call will compute the
    # gradient of loss with respect to all Tensors with requires_grad=True.
    # After this call a.grad, b.grad. c.grad and d.grad will be Tensors holding
    # the gradient of the loss with respect to a, b, c, d respectively.
    loss.backward()
""",
        values={
            "a": 0.1, "b": -0.2, "c": 0.3, "d": 0.05,
            "x": [-1.0, -0.5, 0.0, 0.5, 1.0],
            "y": [-0.84, -0.48, 0.0, 0.48, 0.84],
        },
        canonical="y_pred = a + b * x + c * x^2 + d * x^3\nloss = sum((y_pred - y)^2)",
        torch="lambda a, b, c, d, x, y: ((a + b * x + c * x ** 2 + d * x ** 3 - y) ** 2).sum()",
    ),
    Entry(
        id="pytorch_examples_autograd_two_layer",
        source="PyTorch tutorial: Learning PyTorch with Examples, 2017 edition (PyTorch: Tensors and autograd)",
        notation="torch",
        text=r"""    # Forward pass: compute predicted y using operations on Tensors; these
    # are exactly the same operations we used to compute the forward pass using
    # Tensors, but we do not need to keep references to intermediate values since
    # we are not implementing the backward pass by hand.
    y_pred = x.mm(w1).clamp(min=0).mm(w2)

    # Compute and print loss using operations on Tensors.
    loss = (y_pred - y).pow(2).sum()
    print(t, loss.item())

    loss.backward()
""",
        values={"x": _X, "w1": _W1, "w2": _W2, "y": [[0.5, -0.5, 1.0], [0.0, 1.0, -1.0], [1.0, 0.2, 0.3]]},
        canonical="y_pred = clamp(x @ w1, min=0) @ w2\nloss = sum((y_pred - y)^2)",
        torch="lambda x, w1, w2, y: ((torch.relu(x @ w1) @ w2 - y) ** 2).sum()",
    ),
    Entry(
        id="cs231n_lecture_torch_graph",
        source="cs231n lecture 8, deep learning software (computational graph in PyTorch)",
        notation="torch",
        text=r"""a = x * y
b = a + z
c = torch.sum(b)

c.backward()
print(x.grad)
""",
        values={
            "x": [[0.5, -1.0], [2.0, 0.3]],
            "y": [[1.5, 0.2], [-0.4, 1.0]],
            "z": [[0.1, 0.2], [0.3, 0.4]],
        },
        canonical="a = x * y\nb = a + z\nc = sum(b)",
        torch="lambda x, y, z: (x * y + z).sum()",
    ),
    # ---------------------------------------------------------------- d2l.ai
    Entry(
        id="d2l_autograd_dot",
        source="d2l.ai 2.5 automatic differentiation (y = 2 x^T x)",
        notation="torch",
        text=r"""y = 2 * torch.dot(x, x)
y
y.backward()
x.grad
""",
        values={"x": [0.0, 1.0, 2.0, 3.0]},
        canonical="y = 2 * dot(x, x)",
        torch="lambda x: 2 * torch.dot(x, x)",
    ),
    Entry(
        id="d2l_autograd_sum",
        source="d2l.ai 2.5 automatic differentiation (another function of x: y = x.sum())",
        notation="torch",
        text=r"""x.grad.zero_()  # Reset the gradient
y = x.sum()
y.backward()
x.grad
""",
        values={"x": [0.0, 1.0, 2.0, 3.0]},
        canonical="y = sum(x)",
        torch="lambda x: x.sum()",
    ),
    Entry(
        id="d2l_autograd_nonscalar",
        source="d2l.ai 2.5 automatic differentiation (backward for non-scalar variables)",
        notation="torch",
        text=r"""x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))  # Faster: y.sum().backward()
x.grad
""",
        values={"x": [0.0, 1.0, 2.0, 3.0]},
        text_seed=[1.0, 1.0, 1.0, 1.0],
        canonical="y = x * x",
        torch="lambda x: x * x",
    ),
    Entry(
        id="d2l_linreg_def",
        source="d2l.ai 3.4 linear regression from scratch (linreg)",
        notation="torch",
        text=r'''def linreg(X, w, b):  #@save
    """The linear regression model."""
    return torch.matmul(X, w) + b
''',
        values={"X": [[1.0, 2.0], [-0.5, 0.3], [2.0, -1.0]], "w": [[2.0], [-3.4]], "b": 4.2},
        canonical="X @ w + b",
        torch="lambda X, w, b: X @ w + b",
    ),
    Entry(
        id="d2l_squared_loss_def",
        source="d2l.ai 3.4 linear regression from scratch (squared_loss)",
        notation="torch",
        text=r'''def squared_loss(y_hat, y):  #@save
    """Squared loss."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
''',
        values={"y_hat": [[1.0], [2.5], [-0.5]], "y": [1.5, 2.0, 0.5]},
        canonical="(y_hat - reshape(y, (3, 1)))^2 / 2",
        torch="lambda y_hat, y: (y_hat - y.reshape(3, 1)) ** 2 / 2",
    ),
    Entry(
        id="d2l_softmax_def",
        source="d2l.ai 4.4 softmax regression from scratch (softmax)",
        notation="torch",
        text=r"""def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdims=True)
    return X_exp / partition  # The broadcasting mechanism is applied here
""",
        values={"X": [[0.1, 2.0, -1.0], [1.5, 0.3, 0.2]]},
        canonical="X_exp = exp(X)\npartition = sum(X_exp, 1, keepdims=True)\nX_exp / partition",
        torch="lambda X: torch.softmax(X, 1)",
    ),
    Entry(
        id="d2l_cross_entropy_def",
        source="d2l.ai 3.6 softmax regression from scratch (cross_entropy by indexing)",
        notation="torch",
        text=r"""def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])
""",
        values={"y_hat": [[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]], "y": [0, 2]},
        labels=("y",),
        canonical="-log(y_hat[arange(2), y])",
        torch="lambda y_hat, y: -torch.log(y_hat[torch.arange(2), y])",
    ),
    Entry(
        id="d2l_relu_def",
        source="d2l.ai 4.2 multilayer perceptrons from scratch (relu with zeros_like)",
        notation="torch",
        text=r"""def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)
""",
        values={"X": [[-1.0, 2.0], [0.5, -3.0]]},
        canonical="a = zeros((2, 2))\nmax(X, a)",
        torch="lambda X: torch.maximum(X, torch.zeros_like(X))",
    ),
    Entry(
        id="d2l_reshape_float64_value_lines",
        source="d2l.ai 2.1 data manipulation (reshape) with 2.5 autograd (requires_grad)",
        notation="torch",
        text=r"""X = torch.tensor([1, 2, 3, 4, 5, 6], dtype=torch.float64).reshape(2, 3)
w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
y = X @ w
y.sum().backward()
w.grad
""",
        text_values={"X": [[1, 2, 3], [4, 5, 6]], "w": [0.5, -1.0, 2.0]},
        canonical="y = X @ w\nsum(y)",
        torch="lambda X, w: (X @ w).sum()",
    ),
    # ---------------------------------------------------------------- micrograd / nn-zero-to-hero
    Entry(
        id="micrograd_sanity_check_torch",
        source="Karpathy micrograd test_engine.py (test_sanity_check, the PyTorch side with a tensor value line)",
        notation="torch",
        text=r"""x = torch.tensor([-4.0], dtype=torch.double, requires_grad=True)
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
xpt, ypt = x, y
""",
        text_values={"x": [-4.0]},
        canonical="z = 2 * x + 2 + x\nq = relu(z) + z * x\nh = relu(z * z)\ny = h + q + q * x",
        # z = 3x + 2, y = relu(z^2) + q (1 + x) with q = relu(z) + z x
        torch="lambda x: (lambda z: torch.relu(z * z) + (torch.relu(z) + z * x) * (1 + x))(3 * x + 2)",
    ),
    Entry(
        id="micrograd_more_ops_torch",
        source="Karpathy micrograd test_engine.py (test_more_ops, the PyTorch side with tensor value lines)",
        notation="torch",
        text=r"""a = torch.tensor([-4.0], dtype=torch.double, requires_grad=True)
b = torch.tensor([2.0], dtype=torch.double, requires_grad=True)
c = a + b
d = a * b + b**3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()
""",
        text_values={"a": [-4.0], "b": [2.0]},
        canonical=(
            "c = a + b\nd = a * b + b^3\nc = c + c + 1\nc = c + 1 + c + (-a)\n"
            "d = d + d * 2 + relu(b + a)\nd = d + 3 * d + relu(b - a)\ne = c - d\nf = e^2\n"
            "g = f / 2.0\ng = g + 10.0 / f"
        ),
        # c ends as 3a + 4b + 3 and d as 12ab + 12b^3 + 4 relu(a + b) + relu(b - a)
        torch=(
            "lambda a, b: (lambda e: e ** 2 / 2.0 + 10.0 / e ** 2)((3 * a + 4 * b + 3) "
            "- (12 * a * b + 12 * b ** 3 + 4 * torch.relu(a + b) + torch.relu(b - a)))"
        ),
    ),
    Entry(
        id="micrograd_readme_scalar_tensors",
        source="Karpathy micrograd README example, written with scalar torch tensors",
        notation="torch",
        text=r"""a = torch.tensor(-4.0, requires_grad=True)
b = torch.tensor(2.0, requires_grad=True)
c = a + b
d = a * b + b**3
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()
print(f'{a.grad:.4f}') # dg/da
print(f'{b.grad:.4f}') # dg/db
""",
        text_values={"a": -4.0, "b": 2.0},
        canonical="c = a + b\nd = a * b + b^3\ne = c - d\nf = e^2\ng = f / 2.0\ng = g + 10.0 / f",
        torch="lambda a, b: ((a + b) - (a * b + b ** 3)) ** 2 / 2.0 + 10.0 / ((a + b) - (a * b + b ** 3)) ** 2",
    ),
    Entry(
        id="zero_to_hero_neuron_torch_cell",
        source="Karpathy nn-zero-to-hero lecture 1 (micrograd): the same neuron in PyTorch",
        notation="torch",
        text=r"""x1 = torch.Tensor([2.0]).double()                ; x1.requires_grad = True
x2 = torch.Tensor([0.0]).double()                ; x2.requires_grad = True
w1 = torch.Tensor([-3.0]).double()               ; w1.requires_grad = True
w2 = torch.Tensor([1.0]).double()                ; w2.requires_grad = True
b = torch.Tensor([6.8813735870195432]).double()  ; b.requires_grad = True
n = x1*w1 + x2*w2 + b
o = torch.tanh(n)

print(o.data.item())
o.backward()

print('---')
print('x2', x2.grad.item())
print('w2', w2.grad.item())
print('x1', x1.grad.item())
print('w1', w1.grad.item())
""",
        text_values={"x1": [2.0], "x2": [0.0], "w1": [-3.0], "w2": [1.0], "b": [6.8813735870195432]},
        canonical="n = x1 * w1 + x2 * w2 + b\no = tanh(n)",
        torch="lambda x1, x2, w1, w2, b: torch.tanh(x1 * w1 + x2 * w2 + b)",
    ),
    Entry(
        id="zero_to_hero_neuron_lines",
        source="Karpathy nn-zero-to-hero lecture 1 (micrograd): the neuron's two lines",
        notation="torch",
        text=r"""n = x1*w1 + x2*w2 + b
o = torch.tanh(n)""",
        values={"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432},
        canonical="n = x1 * w1 + x2 * w2 + b\no = tanh(n)",
        torch="lambda x1, x2, w1, w2, b: torch.tanh(x1 * w1 + x2 * w2 + b)",
    ),
    Entry(
        id="zero_to_hero_L_graph",
        source="Karpathy nn-zero-to-hero lecture 1 (micrograd): L = (a*b + c) * f",
        notation="python",
        text=r"""e = a*b
d = e + c
L = d * f""",
        values={"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0},
        canonical="e = a * b\nd = e + c\nL = d * f",
        torch="lambda a, b, c, f: (a * b + c) * f",
    ),
    Entry(
        id="zero_to_hero_f_def",
        source="Karpathy nn-zero-to-hero lecture 1 (micrograd): def f(x) = 3x^2 - 4x + 5",
        notation="python",
        text=r"""def f(x):
  return 3*x**2 - 4*x + 5""",
        values={"x": 3.0},
        canonical="3 * x^2 - 4 * x + 5",
        torch="lambda x: 3 * x ** 2 - 4 * x + 5",
    ),
    Entry(
        id="zero_to_hero_d_line",
        source="Karpathy nn-zero-to-hero lecture 1 (micrograd): d = a*b + c",
        notation="python",
        text=r"""d = a*b + c""",
        values={"a": 2.0, "b": -3.0, "c": 10.0},
        canonical="d = a * b + c",
        torch="lambda a, b, c: a * b + c",
    ),
    Entry(
        id="makemore_mlp_manual_loss",
        source="Karpathy nn-zero-to-hero lecture 3, makemore part 2 (MLP): loss by hand",
        notation="torch",
        text=r"""emb = C[X] # (32, 3, 2)
h = torch.tanh(emb.view(-1, 6) @ W1 + b1) # (32, 100)
logits = h @ W2 + b2 # (32, 27)
counts = logits.exp()
prob = counts / counts.sum(1, keepdims=True)
loss = -prob[torch.arange(32), Y].log().mean()
loss
""",
        values={"C": _C, "X": _X32, "W1": _W1_MLP, "b1": _B1_MLP, "W2": _W2_MLP, "b2": _B2_MLP, "Y": _Y32},
        labels=("X", "Y"),
        canonical=(
            "emb = C[X]\nh = tanh(reshape(emb, (-1, 6)) @ W1 + b1)\nlogits = h @ W2 + b2\n"
            "counts = exp(logits)\nprob = counts / sum(counts, 1, keepdims=True)\n"
            "loss = -mean(log(prob[arange(32), Y]))"
        ),
        torch=(
            "lambda C, X, W1, b1, W2, b2, Y: "
            "F.cross_entropy(torch.tanh(C[X].reshape(-1, 6) @ W1 + b1) @ W2 + b2, Y)"
        ),
    ),
    Entry(
        id="makemore_mlp_cross_entropy",
        source="Karpathy nn-zero-to-hero lecture 3, makemore part 2 (MLP): loss with F.cross_entropy",
        notation="torch",
        text=r"""emb = C[X] # (32, 3, 2)
h = torch.tanh(emb.view(-1, 6) @ W1 + b1) # (32, 100)
logits = h @ W2 + b2 # (32, 27)
loss = F.cross_entropy(logits, Y)
loss
""",
        values={"C": _C, "X": _X32, "W1": _W1_MLP, "b1": _B1_MLP, "W2": _W2_MLP, "b2": _B2_MLP, "Y": _Y32},
        labels=("X", "Y"),
        canonical=(
            "emb = C[X]\nh = tanh(reshape(emb, (-1, 6)) @ W1 + b1)\nlogits = h @ W2 + b2\n"
            "loss = cross_entropy(logits, Y)"
        ),
        torch=(
            "lambda C, X, W1, b1, W2, b2, Y: "
            "F.cross_entropy(torch.tanh(C[X].reshape(-1, 6) @ W1 + b1) @ W2 + b2, Y)"
        ),
    ),
    Entry(
        id="makemore_batchnorm_head",
        source="Karpathy nn-zero-to-hero lecture 4, makemore part 3 (activations and BatchNorm): output layer and loss",
        notation="torch",
        text=r"""  # Non-linearity
  h = torch.tanh(hpreact) # hidden layer
  logits = h @ W2 + b2 # output layer
  loss = F.cross_entropy(logits, Yb) # loss function
""",
        values={
            "hpreact": [[0.5, -1.0, 0.3, 2.0], [1.2, 0.1, -0.4, -0.8], [-0.6, 0.9, 0.7, 0.2]],
            "W2": _W2_MLP,
            "b2": _B2_MLP,
            "Yb": [2, 0, 1],
        },
        labels=("Yb",),
        canonical="h = tanh(hpreact)\nlogits = h @ W2 + b2\nloss = cross_entropy(logits, Yb)",
        torch="lambda hpreact, W2, b2, Yb: F.cross_entropy(torch.tanh(hpreact) @ W2 + b2, Yb)",
    ),
    Entry(
        id="makemore_ninja_softmax_chunk",
        source="Karpathy nn-zero-to-hero lecture 5, becoming a backprop ninja (forward pass chunked: counts to logprobs)",
        notation="torch",
        text=r"""counts = norm_logits.exp()
counts_sum = counts.sum(1, keepdims=True)
counts_sum_inv = counts_sum**-1 # if I use (1.0 / counts_sum) instead then I can't get backprop to be bit exact...
probs = counts * counts_sum_inv
logprobs = probs.log()
""",
        values={"norm_logits": [[-1.2, 0.0, -0.3], [0.0, -2.1, -0.7], [-0.4, -0.9, 0.0], [-1.5, 0.0, -0.2]]},
        canonical=(
            "counts = exp(norm_logits)\ncounts_sum = sum(counts, 1, keepdims=True)\n"
            "counts_sum_inv = counts_sum^(-1)\nprobs = counts * counts_sum_inv\nlogprobs = log(probs)"
        ),
        torch="lambda norm_logits: torch.log_softmax(norm_logits, 1)",
    ),
    Entry(
        id="makemore_ninja_batchnorm",
        source="Karpathy nn-zero-to-hero lecture 5, becoming a backprop ninja (forward pass chunked: linear and BatchNorm)",
        notation="torch",
        text=r"""# Linear layer 1
hprebn = embcat @ W1 + b1 # hidden layer pre-activation
# BatchNorm layer
bnmeani = 1/n*hprebn.sum(0, keepdim=True)
bndiff = hprebn - bnmeani
bndiff2 = bndiff**2
bnvar = 1/(n-1)*(bndiff2).sum(0, keepdim=True) # note: Bessel's correction (dividing by n-1, not n)
bnvar_inv = (bnvar + 1e-5)**-0.5
bnraw = bndiff * bnvar_inv
hpreact = bngain * bnraw + bnbias
# Non-linearity
h = torch.tanh(hpreact) # hidden layer
""",
        values={
            "embcat": [[1.0, -0.5, 0.2], [0.3, 0.8, -1.0], [-0.7, 0.1, 0.6], [0.4, -0.9, 0.5]],
            "W1": [[0.2, -0.4], [0.5, 0.1], [-0.3, 0.6]],
            "b1": [0.1, -0.2],
            "n": 4.0,
            "bngain": [[1.0, 1.2]],
            "bnbias": [[0.0, -0.1]],
        },
        canonical=(
            "hprebn = embcat @ W1 + b1\nbnmeani = 1 / n * sum(hprebn, 0, keepdim=True)\n"
            "bndiff = hprebn - bnmeani\nbndiff2 = bndiff^2\n"
            "bnvar = 1 / (n - 1) * sum(bndiff2, 0, keepdim=True)\n"
            "bnvar_inv = (bnvar + 1e-5)^(-0.5)\nbnraw = bndiff * bnvar_inv\n"
            "hpreact = bngain * bnraw + bnbias\nh = tanh(hpreact)"
        ),
        # batch mean over n rows, variance with Bessel's n - 1, then scale, shift and tanh
        torch=(
            "lambda embcat, W1, b1, n, bngain, bnbias: (lambda d: torch.tanh(bngain * d "
            "* ((d ** 2).sum(0, keepdim=True) / (n - 1) + 1e-5) ** -0.5 + bnbias))"
            "((embcat @ W1 + b1) - (embcat @ W1 + b1).sum(0, keepdim=True) / n)"
        ),
    ),
    # ---------------------------------------------------------------- PyTorch docs and tutorials
    Entry(
        id="pytorch_docs_cross_entropy_indices",
        source="PyTorch docs: torch.nn.functional.cross_entropy (example of target with class indices)",
        notation="torch",
        text=r"""loss = F.cross_entropy(input, target)
loss.backward()""",
        values={
            "input": [[0.3, -1.2, 0.8, 0.1, 2.0], [1.1, 0.4, -0.5, 0.9, -0.3], [-0.8, 0.2, 0.6, -1.5, 0.7]],
            "target": [4, 0, 2],
        },
        labels=("target",),
        canonical="loss = cross_entropy(input, target)",
        torch="lambda input, target: F.cross_entropy(input, target)",
    ),
    Entry(
        id="pytorch_docs_cross_entropy_probs",
        source="PyTorch docs: torch.nn.functional.cross_entropy (example of target with class probabilities)",
        notation="torch",
        text=r"""loss = F.cross_entropy(input, target)
loss.backward()""",
        values={
            "input": [[0.3, -1.2, 0.8], [1.1, 0.4, -0.5]],
            "target": [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]],
        },
        canonical="loss = cross_entropy(input, target)",
        torch="lambda input, target: F.cross_entropy(input, target)",
    ),
    Entry(
        id="lightning_autoencoder_mse",
        source="PyTorch Lightning README (LitAutoEncoder training_step: F.mse_loss)",
        notation="torch",
        text=r"""        loss = F.mse_loss(x_hat, x)""",
        values={"x_hat": [[0.1, 0.9], [0.4, 0.2]], "x": [[0.0, 1.0], [0.5, 0.0]]},
        canonical="loss = mse(x_hat, x)",
        torch="lambda x_hat, x: ((x_hat - x) ** 2).mean()",
    ),
    Entry(
        id="pytorch_mse_loss_sum",
        source="PyTorch docs: torch.nn.functional.mse_loss with reduction='sum' (as the examples tutorial's loss_fn)",
        notation="torch",
        text=r"""loss = torch.nn.functional.mse_loss(y_pred, y, reduction='sum')""",
        values={"y_pred": [0.5, 1.5, -0.2], "y": [1.0, 1.0, 0.0]},
        canonical="loss = mse(y_pred, y, reduction='sum')",
        torch="lambda y_pred, y: ((y_pred - y) ** 2).sum()",
    ),
    Entry(
        id="pytorch_logistic_regression_sigmoid",
        source="logistic regression from scratch in PyTorch, course-notebook style, written for this corpus (torch.sigmoid, F.binary_cross_entropy)",
        notation="torch",
        text=r"""y_pred = torch.sigmoid(x @ w + b)
loss = F.binary_cross_entropy(y_pred, y)
loss.backward()
""",
        values={"x": [[1.0, 2.0], [-1.0, 0.5], [0.3, -0.8]], "w": [0.4, -0.6], "b": 0.1, "y": [1.0, 0.0, 1.0]},
        canonical="y_pred = sigmoid(x @ w + b)\nloss = binary_cross_entropy(y_pred, y)",
        torch=(
            "lambda x, w, b, y: -(y * torch.log(torch.sigmoid(x @ w + b)) "
            "+ (1 - y) * torch.log(1 - torch.sigmoid(x @ w + b))).mean()"
        ),
    ),
    Entry(
        id="pytorch_nlp_tutorial_softmax",
        source="PyTorch tutorial: Deep Learning with PyTorch (NLP), non-linearities and softmax (F.softmax(data, dim=0))",
        notation="torch",
        text=r"""# Softmax is also in torch.nn.functional
probs = F.softmax(data, dim=0)
print(probs)
""",
        values={"data": [1.2, -0.3, 0.5, 2.0, -1.0]},
        canonical="probs = softmax(data, dim=0)",
        torch="lambda data: torch.exp(data) / torch.exp(data).sum()",
    ),
    Entry(
        id="pytorch_nlp_tutorial_autograd",
        source="PyTorch tutorial: Deep Learning with PyTorch (NLP), computation graphs and automatic differentiation",
        notation="torch",
        text=r"""# Tensor factory methods have a ``requires_grad`` flag
x = torch.tensor([1., 2., 3], requires_grad=True)

# With requires_grad=True, you can still do all the operations you previously
# could
y = torch.tensor([4., 5., 6], requires_grad=True)
z = x + y
print(z)

# BUT z knows something extra.
print(z.grad_fn)

# Lets sum up all the entries in z
s = z.sum()
print(s)
print(s.grad_fn)

# calling .backward() on any variable will run backprop, starting from it.
s.backward()
print(x.grad)
""",
        text_values={"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]},
        canonical="z = x + y\ns = sum(z)",
        torch="lambda x, y: (x + y).sum()",
    ),
    Entry(
        id="cs224n_pytorch_tutorial_autograd",
        source="Stanford CS224n PyTorch tutorial (autograd: y = 3x^2)",
        notation="torch",
        text=r"""# Create an example tensor
# requires_grad parameter tells PyTorch to store gradients
x = torch.tensor([2.], requires_grad=True)

# Calculating the gradient of y with respect to x
y = x * x * 3 # 3x^2
y.backward()
pp.pprint(x.grad) # d(3x^2)/dx = 6x = 12
""",
        text_values={"x": [2.0]},
        canonical="y = x * x * 3",
        torch="lambda x: x * x * 3",
    ),
    Entry(
        id="cs224n_pytorch_tutorial_matmul",
        source="in the style of the Stanford CS224n PyTorch tutorial, written for this corpus (torch.Tensor value lines, a @ b)",
        notation="torch",
        text=r"""a = torch.Tensor([[1, 2], [3, 4]])
b = torch.Tensor([[5, 6], [7, 8]])

# Matrix multiplication
a @ b
""",
        text_values={"a": [[1, 2], [3, 4]], "b": [[5, 6], [7, 8]]},
        canonical="a @ b",
        torch="lambda a, b: a @ b",
    ),
    Entry(
        id="torch_nn_really_log_softmax",
        source="PyTorch tutorial: What is torch.nn really? (neural net from scratch: log_softmax)",
        notation="torch",
        text=r"""def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)
""",
        values={"x": [[0.2, -1.0, 0.5], [1.5, 0.3, -0.4]]},
        canonical="x - unsqueeze(log(sum(exp(x), -1)), -1)",
        torch="lambda x: torch.log_softmax(x, -1)",
    ),
    Entry(
        id="torch_nn_really_nll",
        source="PyTorch tutorial: What is torch.nn really? (neural net from scratch: negative log-likelihood)",
        notation="torch",
        text=r"""def nll(input, target):
    return -input[range(target.shape[0]), target].mean()

loss_func = nll
""",
        values={"input": [[-1.2, -0.4, -2.0], [-0.3, -1.8, -1.5], [-2.2, -0.9, -0.6]], "target": [1, 0, 2]},
        labels=("target",),
        canonical="-mean(input[arange(3), target])",
        torch="lambda input, target: -input[torch.arange(3), target].mean()",
    ),
    Entry(
        id="torch_relu_grad_cell",
        source="PyTorch autograd exercise cell, written for this corpus (F.relu, x.grad)",
        notation="torch",
        text=r"""import torch
import torch.nn.functional as F

x = torch.tensor([[-1.0, 2.0], [0.5, -3.0]], requires_grad=True)
y = F.relu(x).sum()
y.backward()
print(x.grad)
""",
        text_values={"x": [[-1.0, 2.0], [0.5, -3.0]]},
        canonical="y = sum(relu(x))",
        torch="lambda x: torch.relu(x).sum()",
    ),
    Entry(
        id="torch_sigmoid_grad_cell",
        source="PyTorch autograd exercise cell, written for this corpus (torch.sigmoid, s.sum().backward())",
        notation="torch",
        text=r"""x = torch.tensor([0.0, 2.0, -2.0], requires_grad=True)
s = torch.sigmoid(x)
s.sum().backward()
print(x.grad)  # s * (1 - s)
""",
        text_values={"x": [0.0, 2.0, -2.0]},
        canonical="s = sigmoid(x)\nsum(s)",
        torch="lambda x: torch.sigmoid(x).sum()",
    ),
    Entry(
        id="torch_linear_float64_value_lines",
        source="PyTorch autograd exercise cell, written for this corpus (float64 value lines, x @ w + b)",
        notation="torch",
        text=r"""x = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
w = torch.tensor([[0.1], [-0.2], [0.3]], dtype=torch.float64, requires_grad=True)
b = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
y = x @ w + b
y.backward()
print(w.grad, b.grad)
""",
        text_values={"x": [[1.0, 2.0, 3.0]], "w": [[0.1], [-0.2], [0.3]], "b": [0.5]},
        canonical="y = x @ w + b",
        torch="lambda x, w, b: x @ w + b",
    ),
    Entry(
        id="torch_exp_pow_mean_chain",
        source="PyTorch method-chain line, written for this corpus (.exp(), .pow(2), .mean())",
        notation="torch",
        text=r"""loss = (x.exp() - y).pow(2).mean()
loss.backward()
""",
        values={"x": [0.1, -0.5, 0.7], "y": [1.0, 0.5, 2.0]},
        canonical="loss = mean((exp(x) - y)^2)",
        torch="lambda x, y: ((torch.exp(x) - y) ** 2).mean()",
    ),
]


TF = [
    # ---------------------------------------------------------------- TensorFlow guides
    Entry(
        id="tf_guide_autodiff_variable",
        source="TensorFlow guide: Introduction to gradients and automatic differentiation (gradient tapes)",
        notation="tf",
        text=r"""x = tf.Variable(3.0)

with tf.GradientTape() as tape:
  y = x**2

# dy = 2x * dx
dy_dx = tape.gradient(y, x)
dy_dx.numpy()
""",
        text_values={"x": 3.0},
        canonical="y = x^2",
        torch="lambda x: x ** 2",
    ),
    Entry(
        id="tf_guide_autodiff_watch",
        source="TensorFlow guide: Introduction to gradients and automatic differentiation (controlling what the tape watches)",
        notation="tf",
        text=r"""x = tf.constant(3.0)
with tf.GradientTape() as tape:
  tape.watch(x)
  y = x**2

# dy = 2x * dx
dy_dx = tape.gradient(y, x)
print(dy_dx.numpy())
""",
        text_values={"x": 3.0},
        canonical="y = x^2",
        torch="lambda x: x ** 2",
    ),
    Entry(
        id="tf_guide_autodiff_dense",
        source="TensorFlow guide: Introduction to gradients and automatic differentiation (y = x @ w + b, loss)",
        notation="tf",
        text=r"""x = [[1., 2., 3.]]

with tf.GradientTape(persistent=True) as tape:
  y = x @ w + b
  loss = tf.reduce_mean(y**2)

[dl_dw, dl_db] = tape.gradient(loss, [w, b])
""",
        text_values={"x": [[1.0, 2.0, 3.0]]},
        values={"w": [[0.1, -0.3], [0.5, 0.2], [-0.4, 0.6]], "b": [0.0, 0.0]},
        canonical="y = x @ w + b\nloss = mean(y^2)",
        torch="lambda x, w, b: ((x @ w + b) ** 2).mean()",
    ),
    Entry(
        id="tf_guide_autodiff_sigmoid",
        source="TensorFlow guide: Introduction to gradients and automatic differentiation (gradient of the sigmoid)",
        notation="tf",
        text=r"""with tf.GradientTape() as tape:
  tape.watch(x)
  y = tf.nn.sigmoid(x)

dy_dx = tape.gradient(y, x)
""",
        values={"x": [-10.0, -1.0, 0.0, 1.0, 10.0]},
        canonical="y = sigmoid(x)",
        torch="lambda x: torch.sigmoid(x)",
    ),
    Entry(
        id="tf_api_gradienttape_watch",
        source="TensorFlow API docs: tf.GradientTape (watching a constant)",
        notation="tf",
        text=r"""x = tf.constant(3.0)
with tf.GradientTape() as g:
  g.watch(x)
  y = x * x
dy_dx = g.gradient(y, x)
print(dy_dx)
""",
        text_values={"x": 3.0},
        canonical="y = x * x",
        torch="lambda x: x * x",
    ),
    Entry(
        id="tf_api_gradienttape_persistent",
        source="TensorFlow API docs: tf.GradientTape (persistent tape, dz/dx = 4x^3)",
        notation="tf",
        text=r"""x = tf.constant(3.0)
with tf.GradientTape(persistent=True) as g:
  g.watch(x)
  y = x * x
  z = y * y
dz_dx = g.gradient(z, x)  # (4*x^3 at x = 3)
print(dz_dx)
""",
        text_values={"x": 3.0},
        canonical="y = x * x\nz = y * y",
        torch="lambda x: (x * x) * (x * x)",
    ),
    Entry(
        id="tf_basics_def_f",
        source="TensorFlow guide: TensorFlow basics (gradients of f(x) = x^2 + 2x - 5)",
        notation="tf",
        text=r"""x = tf.Variable(1.0)

def f(x):
  y = x**2 + 2*x - 5
  return y

with tf.GradientTape() as tape:
  y = f(x)

g_x = tape.gradient(y, x)  # g(x) = dy/dx

g_x
""",
        text_values={"x": 1.0},
        canonical="def f(x):\n    y = x^2 + 2 * x - 5\n    return y\ny = f(x)",
        torch="lambda x: x ** 2 + 2 * x - 5",
    ),
    Entry(
        id="tf_basics_matmul_transpose",
        source="TensorFlow guide: TensorFlow basics (tensors: x @ tf.transpose(x))",
        notation="tf",
        text=r"""import tensorflow as tf

x = tf.constant([[1., 2., 3.],
                 [4., 5., 6.]])

print(x)
print(x.shape)
print(x.dtype)

x @ tf.transpose(x)
""",
        text_values={"x": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]},
        canonical="x @ transpose(x)",
        torch="lambda x: x @ x.T",
    ),
    Entry(
        id="tf_basics_softmax",
        source="TensorFlow guide: TensorFlow basics (tensors: tf.nn.softmax(x, axis=-1))",
        notation="tf",
        text=r"""x = tf.constant([[1., 2., 3.],
                 [4., 5., 6.]])

tf.nn.softmax(x, axis=-1)
""",
        text_values={"x": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]},
        canonical="softmax(x, axis=-1)",
        torch="lambda x: torch.softmax(x, -1)",
    ),
    Entry(
        id="tf_basics_reduce_sum",
        source="TensorFlow guide: TensorFlow basics (tensors: tf.reduce_sum(x))",
        notation="tf",
        text=r"""x = tf.constant([[1., 2., 3.],
                 [4., 5., 6.]])

tf.reduce_sum(x)
""",
        text_values={"x": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]},
        canonical="sum(x)",
        torch="lambda x: x.sum()",
    ),
    # ---------------------------------------------------------------- cs231n lecture slides
    Entry(
        id="cs231n_lecture_tf1_graph",
        source="cs231n lecture 8, deep learning software (computational graph in TensorFlow 1, tf.gradients)",
        notation="tf",
        text=r"""a = x * y
b = a + z
c = tf.reduce_sum(b)

grad_x, grad_y, grad_z = tf.gradients(c, [x, y, z])
""",
        values={
            "x": [[0.5, -1.0], [2.0, 0.3]],
            "y": [[1.5, 0.2], [-0.4, 1.0]],
            "z": [[0.1, 0.2], [0.3, 0.4]],
        },
        canonical="a = x * y\nb = a + z\nc = sum(b)",
        torch="lambda x, y, z: (x * y + z).sum()",
    ),
    Entry(
        id="cs231n_lecture_tf1_two_layer",
        source="cs231n lecture 8, deep learning software (TensorFlow 1 two-layer net with L2 loss)",
        notation="tf",
        text=r"""h = tf.maximum(tf.matmul(x, w1), 0)
y_pred = tf.matmul(h, w2)
diff = y_pred - y
loss = tf.reduce_mean(tf.reduce_sum(diff ** 2, axis=1))

grad_w1, grad_w2 = tf.gradients(loss, [w1, w2])
""",
        values={"x": _X, "w1": _W1, "w2": _W2, "y": [[0.5, -0.5, 1.0], [0.0, 1.0, -1.0], [1.0, 0.2, 0.3]]},
        canonical=(
            "h = max(x @ w1, 0)\ny_pred = h @ w2\ndiff = y_pred - y\nloss = mean(sum(diff^2, axis=1))"
        ),
        torch="lambda x, w1, w2, y: ((torch.relu(x @ w1) @ w2 - y) ** 2).sum(1).mean()",
    ),
    Entry(
        id="cs231n_lecture_tf2_two_layer",
        source="cs231n lecture (2019), TensorFlow 2.0 two-layer net with GradientTape",
        notation="tf",
        text=r"""with tf.GradientTape() as tape:
  h = tf.maximum(tf.matmul(x, w1), 0)
  y_pred = tf.matmul(h, w2)
  diff = y_pred - y
  loss = tf.reduce_mean(tf.reduce_sum(diff ** 2, axis=1))
gradients = tape.gradient(loss, [w1, w2])
""",
        values={"x": _X, "w1": _W1, "w2": _W2, "y": [[0.5, -0.5, 1.0], [0.0, 1.0, -1.0], [1.0, 0.2, 0.3]]},
        canonical=(
            "h = max(x @ w1, 0)\ny_pred = h @ w2\ndiff = y_pred - y\nloss = mean(sum(diff^2, axis=1))"
        ),
        torch="lambda x, w1, w2, y: ((torch.relu(x @ w1) @ w2 - y) ** 2).sum(1).mean()",
    ),
    # ---------------------------------------------------------------- TensorFlow 1 courses and examples
    Entry(
        id="cs20si_linear_regression_square",
        source="Stanford CS20SI TensorFlow for Deep Learning Research, lecture 3 (linear regression: squared error)",
        notation="tf",
        text=r"""Y_predicted = w * X + b
loss = tf.square(Y - Y_predicted, name='loss')
""",
        values={"w": 0.5, "X": 2.0, "b": -0.3, "Y": 1.5},
        canonical="Y_predicted = w * X + b\nloss = square(Y - Y_predicted)",
        torch="lambda w, X, b, Y: (Y - (w * X + b)) ** 2",
    ),
    Entry(
        id="tf_examples_logistic_regression_tf1",
        source="Aymeric Damien TensorFlow-Examples (TF1 logistic_regression.py: softmax and cross entropy)",
        notation="tf",
        text=r"""# Construct model
pred = tf.nn.softmax(tf.matmul(x, W) + b) # Softmax

# Minimize error using cross entropy
cost = tf.reduce_mean(-tf.reduce_sum(y*tf.log(pred), reduction_indices=1))
""",
        values={
            "x": [[0.5, 1.0], [-1.0, 0.2], [0.3, -0.4]],
            "W": [[0.1, -0.2, 0.3], [0.4, 0.0, -0.5]],
            "b": [0.0, 0.1, -0.1],
            "y": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
        },
        canonical="pred = softmax(x @ W + b)\ncost = mean(-sum(y * log(pred), axis=1))",
        torch="lambda x, W, b, y: (-(y * torch.log_softmax(x @ W + b, 1)).sum(1)).mean()",
    ),
    Entry(
        id="tf_examples_linear_regression_tf1",
        source="Aymeric Damien TensorFlow-Examples (TF1 linear_regression.py: model and mean squared error)",
        notation="tf",
        text=r"""# Construct a linear model
pred = tf.add(tf.multiply(X, W), b)

# Mean squared error
cost = tf.reduce_sum(tf.pow(pred-Y, 2))/(2*n_samples)
""",
        values={"X": [3.3, 4.4, 5.5], "W": 0.3, "b": -0.1, "Y": [1.7, 2.76, 2.09], "n_samples": 3.0},
        canonical="pred = X * W + b\ncost = sum((pred - Y)^2) / (2 * n_samples)",
        torch="lambda X, W, b, Y, n_samples: ((X * W + b - Y) ** 2).sum() / (2 * n_samples)",
    ),
    Entry(
        id="tf_mnist_beginners_cross_entropy",
        source="TensorFlow 1 tutorial: MNIST for ML Beginners (softmax regression and cross-entropy)",
        notation="tf",
        text=r"""y = tf.nn.softmax(tf.matmul(x, W) + b)

cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
""",
        values={
            "x": [[0.5, 1.0], [-1.0, 0.2]],
            "W": [[0.1, -0.2, 0.3], [0.4, 0.0, -0.5]],
            "b": [0.0, 0.1, -0.1],
            "y_": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
        },
        canonical="y = softmax(x @ W + b)\nce = mean(-sum(y_ * log(y), axis=1))",
        torch="lambda x, W, b, y_: (-(y_ * torch.log_softmax(x @ W + b, 1)).sum(1)).mean()",
    ),
    Entry(
        id="tf1_softmax_cross_entropy_with_logits",
        source="TensorFlow 1 tutorial: Deep MNIST for Experts (tf.nn.softmax_cross_entropy_with_logits, averaged)",
        notation="tf",
        text=r"""cross_entropy = tf.reduce_mean(
    tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y_conv))
""",
        values={
            "y_": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
            "y_conv": [[0.5, 1.5, -0.3], [2.0, -1.0, 0.4]],
        },
        canonical="ce = mean(cross_entropy(y_conv, y_, reduction='none'))",
        torch="lambda y_, y_conv: (-(y_ * torch.log_softmax(y_conv, 1)).sum(1)).mean()",
    ),
    Entry(
        id="tf_sparse_softmax_cross_entropy",
        source="TensorFlow API docs: tf.nn.sparse_softmax_cross_entropy_with_logits (integer labels)",
        notation="tf",
        text=r"""loss = tf.reduce_mean(
    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
""",
        values={"logits": [[0.5, 1.5, -0.3], [2.0, -1.0, 0.4], [0.1, 0.2, 0.3]], "labels": [1, 0, 2]},
        labels=("labels",),
        canonical="loss = mean(cross_entropy(logits, labels, reduction='none'))",
        torch="lambda logits, labels: F.cross_entropy(logits, labels)",
    ),
    # ---------------------------------------------------------------- TensorFlow 2 examples
    Entry(
        id="tf_examples_logistic_regression_def",
        source="Aymeric Damien TensorFlow-Examples (TF2 logistic_regression: the model)",
        notation="tf",
        text=r"""# Logistic regression (Wx + b).
def logistic_regression(x):
    # Apply softmax to normalize the logits to a probability distribution.
    return tf.nn.softmax(tf.matmul(x, W) + b)
""",
        values={
            "x": [[0.5, 1.0], [-1.0, 0.2]],
            "W": [[0.1, -0.2, 0.3], [0.4, 0.0, -0.5]],
            "b": [0.0, 0.1, -0.1],
        },
        canonical="softmax(x @ W + b)",
        torch="lambda x, W, b: torch.softmax(x @ W + b, -1)",
    ),
    Entry(
        id="tf_examples_mean_square_def",
        source="Aymeric Damien TensorFlow-Examples (TF2 linear_regression: mean square error)",
        notation="tf",
        text=r"""# Mean square error.
def mean_square(y_pred, y_true):
    return tf.reduce_mean(tf.square(y_pred - y_true))
""",
        values={"y_pred": [1.0, 2.5, 0.3], "y_true": [1.7, 2.76, 2.09]},
        canonical="mean(square(y_pred - y_true))",
        torch="lambda y_pred, y_true: ((y_pred - y_true) ** 2).mean()",
    ),
    Entry(
        id="tf_binary_cross_entropy_math_log",
        source="TensorFlow 2 logistic regression from scratch, course-notebook style, written for this corpus (tf.math.log)",
        notation="tf",
        text=r"""p = tf.sigmoid(tf.matmul(X, w) + b)
loss = -tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
""",
        values={
            "X": [[1.0, 2.0], [-1.0, 0.5], [0.3, -0.8]],
            "w": [[0.4], [-0.6]],
            "b": [0.1],
            "y": [[1.0], [0.0], [1.0]],
        },
        canonical="p = sigmoid(X @ w + b)\nloss = -mean(y * log(p) + (1 - y) * log(1 - p))",
        torch=(
            "lambda X, w, b, y: -(y * torch.log(torch.sigmoid(X @ w + b)) "
            "+ (1 - y) * torch.log(1 - torch.sigmoid(X @ w + b))).mean()"
        ),
    ),
    Entry(
        id="tf_output_gradients_square",
        source="TensorFlow API docs: tf.GradientTape.gradient (output_gradients)",
        notation="tf",
        text=r"""x = tf.constant([1.0, 2.0, 3.0])
dz = tf.constant([1.0, 0.5, 0.0])
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.square(x)
dx = g.gradient(z, x, output_gradients=dz)
print(dx)  # [2.0, 2.0, 0.0]
""",
        text_values={"x": [1.0, 2.0, 3.0]},
        text_seed=[1.0, 0.5, 0.0],
        canonical="z = square(x)",
        torch="lambda x: x ** 2",
    ),
    Entry(
        id="tf_output_gradients_softmax",
        source="TensorFlow GradientTape cell, written for this corpus (upstream gradient through tf.nn.softmax, output_gradients)",
        notation="tf",
        text=r"""logits = tf.constant([[2.0, 1.0, 0.1]])
upstream = tf.constant([[1.0, 0.0, 0.0]])
with tf.GradientTape() as tape:
    tape.watch(logits)
    probs = tf.nn.softmax(logits)
grad = tape.gradient(probs, logits, output_gradients=upstream)
""",
        text_values={"logits": [[2.0, 1.0, 0.1]]},
        text_seed=[[1.0, 0.0, 0.0]],
        canonical="probs = softmax(logits)",
        torch="lambda logits: torch.softmax(logits, -1)",
    ),
    Entry(
        id="tf_variable_matrix_value_lines",
        source="TensorFlow GradientTape cell, written for this corpus (tf.Variable value lines, tf.matmul, tf.reduce_mean)",
        notation="tf",
        text=r"""w = tf.Variable([[1.0], [2.0]])
x = tf.constant([[3.0, 4.0]])
with tf.GradientTape() as tape:
    y = tf.matmul(x, w)
    loss = tf.reduce_mean(y**2)
grad = tape.gradient(loss, w)
""",
        text_values={"w": [[1.0], [2.0]], "x": [[3.0, 4.0]]},
        canonical="y = x @ w\nloss = mean(y^2)",
        torch="lambda w, x: ((x @ w) ** 2).mean()",
    ),
    Entry(
        id="d2l_tf_linreg_def",
        source="d2l.ai 3.4 linear regression from scratch, TensorFlow tab (linreg)",
        notation="tf",
        text=r'''def linreg(X, w, b):  #@save
    """The linear regression model."""
    return tf.matmul(X, w) + b
''',
        values={"X": [[1.0, 2.0], [-0.5, 0.3], [2.0, -1.0]], "w": [[2.0], [-3.4]], "b": [4.2]},
        canonical="X @ w + b",
        torch="lambda X, w, b: X @ w + b",
    ),
    Entry(
        id="d2l_tf_softmax_def",
        source="d2l.ai 4.4 softmax regression from scratch, TensorFlow tab (softmax)",
        notation="tf",
        text=r"""def softmax(X):
    X_exp = tf.exp(X)
    partition = tf.reduce_sum(X_exp, 1, keepdims=True)
    return X_exp / partition  # The broadcasting mechanism is applied here
""",
        values={"X": [[0.1, 2.0, -1.0], [1.5, 0.3, 0.2]]},
        canonical="X_exp = exp(X)\npartition = sum(X_exp, 1, keepdims=True)\nX_exp / partition",
        torch="lambda X: torch.softmax(X, 1)",
    ),
    Entry(
        id="d2l_tf_autograd_tensordot",
        source="d2l.ai 2.5 automatic differentiation, TensorFlow tab (y = 2 x^T x)",
        notation="tf",
        text=r"""# Record all computations onto a tape
with tf.GradientTape() as t:
    y = 2 * tf.tensordot(x, x, axes=1)
y
x_grad = t.gradient(y, x)
x_grad
""",
        values={"x": [0.0, 1.0, 2.0, 3.0]},
        canonical="y = 2 * dot(x, x)",
        torch="lambda x: 2 * torch.dot(x, x)",
    ),
    Entry(
        id="d2l_tf_autograd_reduce_sum",
        source="d2l.ai 2.5 automatic differentiation, TensorFlow tab (y = tf.reduce_sum(x))",
        notation="tf",
        text=r"""with tf.GradientTape() as t:
    y = tf.reduce_sum(x)
t.gradient(y, x)  # Overwritten by the newly calculated gradient
""",
        values={"x": [0.0, 1.0, 2.0, 3.0]},
        canonical="y = sum(x)",
        torch="lambda x: x.sum()",
    ),
    Entry(
        id="d2l_tf_autograd_nonscalar",
        source="d2l.ai 2.5 automatic differentiation, TensorFlow tab (backward for non-scalar variables)",
        notation="tf",
        text=r"""with tf.GradientTape() as t:
    y = x * x
t.gradient(y, x)  # Same as y = tf.reduce_sum(x * x)
""",
        values={"x": [0.0, 1.0, 2.0, 3.0]},
        canonical="y = x * x",
        torch="lambda x: x * x",
    ),
    Entry(
        id="d2l_tf_relu_def",
        source="d2l.ai 4.2 multilayer perceptrons from scratch, TensorFlow tab (relu)",
        notation="tf",
        text=r"""def relu(X):
    return tf.math.maximum(X, 0)
""",
        values={"X": [[-1.0, 2.0], [0.5, -3.0]]},
        canonical="max(X, 0)",
        torch="lambda X: torch.relu(X)",
    ),
    Entry(
        id="tf2_raw_mlp_forward",
        source="TensorFlow 2 low-level MLP forward pass with a tape, written for this corpus (tf.nn.relu, tf.matmul)",
        notation="tf",
        text=r"""with tf.GradientTape() as tape:
    h = tf.nn.relu(tf.matmul(x, W1) + b1)
    logits = tf.matmul(h, W2) + b2
    loss = tf.reduce_mean(tf.square(logits - y))
grads = tape.gradient(loss, [W1, b1, W2, b2])
""",
        values={"x": _X, "W1": _W1, "b1": _B1, "W2": _W2, "b2": _B2,
                "y": [[0.5, -0.5, 1.0], [0.0, 1.0, -1.0], [1.0, 0.2, 0.3]]},
        canonical="h = relu(x @ W1 + b1)\nlogits = h @ W2 + b2\nloss = mean(square(logits - y))",
        torch="lambda x, W1, b1, W2, b2, y: ((torch.relu(x @ W1 + b1) @ W2 + b2 - y) ** 2).mean()",
    ),
]


ENTRIES = NUMPY + TORCH + TF
EXCLUDED = []

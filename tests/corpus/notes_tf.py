# The texts are the notes' characters exactly: long formulas, and the notebook's trailing spaces
# (the convolution cells), stay as they are.
# ruff: noqa: E501, W291
"""Reading corpus: lecture-notes 000, "Neural Networks: Backpropagation of Gradients on Graphs"
(TensorFlow exercises: the gradients of sigmoid, softmax, matmul and a 2-D convolution).

The notebook's cells are pasted whole (with the imports, comments, `with` blocks and prints that
compute nothing), alone and joined with the cell of values they use; each computing line is
also an entry of its own. The derivations (∂, δ_ij, index-shifted sums) are EXCLUDED.

The notes' numbers: x = [3, 4, 5] and the output gradient dz = [1, 2, 3] (sigmoid, softmax);
2x2 matrices x, y, dz (matmul); a 4x4 image x, a 2x2 filter w and a 3x3 dz (convolution).
"""

from tests.corpus.entry import Entry, Excluded

SIG = "lecture-notes 000, 1. The sigmoid function"
SOFT = "lecture-notes 000, 2. The softmax function"
MM = "lecture-notes 000, 3. Matrix multiplication"
CONV = "lecture-notes 000, 4. 2D Convolution"
INTRO = "lecture-notes 000, Backpropagation of Gradients"

# The notes' values.
X3 = [3.0, 4.0, 5.0]
DZ3 = [1.0, 2.0, 3.0]
XM = [[3.0, 4.0], [5.0, 6.0]]
YM = [[4.0, 5.0], [6.0, 7.0]]
DZM = [[1.0, 2.0], [3.0, 4.0]]
XC = [[3.0, 4.0, 5.0, 6.0], [4.0, 5.0, 6.0, 7.0], [5.0, 6.0, 7.0, 8.0], [6.0, 7.0, 8.0, 9.0]]
WC = [[1.0, 2.0], [3.0, 4.0]]
DZC = [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]
# dz as the convolution cell hands it to g.gradient: tf.reshape(dz, [1, 3, 3, 1]) (NHWC).
DZC_NHWC = [[[[v] for v in row] for row in DZC]]

# tf.nn.conv2d on one NHWC image with one HWIO filter, as PyTorch's NCHW conv2d (a
# cross-correlation, stride 1, no padding), returned in NHWC: shape (1, 3, 3, 1).
CONV_NHWC = ("lambda x, w: F.conv2d(x.reshape(1, 1, 4, 4), w.reshape(1, 1, 2, 2))"
             ".permute(0, 2, 3, 1)")

ENTRIES = [
    # ---------------------------------------------------------------- 1. sigmoid
    Entry(
        id="tf-sigmoid-heading",
        source=SIG + " (heading)",
        notation="latex",
        text=r"""$\sigma(x_i) = 1/(1+e^{-x_i})$""",
        # a header: sigma names the output, x is the input; x_i is x elementwise.
        canonical="sigma = 1 / (1 + e^(-x))",
        torch="lambda x: 1 / (1 + torch.exp(-x))",
        values={"x": X3},
    ),
    Entry(
        id="tf-sigmoid-z",
        source=SIG,
        notation="latex",
        text=r"""$z_i = \sigma(x_i) = 1/(1+e^{-x_i})$""",
        # equal forms: the last is read.
        canonical="z = 1 / (1 + e^(-x))",
        torch="lambda x: 1 / (1 + torch.exp(-x))",
        values={"x": X3},
    ),
    Entry(
        id="tf-sigmoid-tape-line",
        source=SIG + " (GradientTape cell)",
        notation="tf",
        text=r"""    z = tf.sigmoid(x)""",
        canonical="z = sigmoid(x)",
        torch="lambda x: torch.sigmoid(x)",
        values={"x": X3},
    ),
    Entry(
        id="tf-sigmoid-tape-cell",
        source=SIG + " (GradientTape cell)",
        notation="tf",
        text=r"""# Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.sigmoid(x)
dx_tf = g.gradient(z, x, output_gradients=dz)
print(dx_tf)
print(dx == dx_tf)""",
        canonical="z = sigmoid(x)",
        torch="lambda x: torch.sigmoid(x)",
        values={"x": X3},
        # dz is not defined in this cell: the user gives the output gradient.
        seed=DZ3,
    ),
    Entry(
        id="tf-sigmoid-values-tape",
        source=SIG + " (inputs cell and GradientTape cell)",
        notation="tf",
        text=r"""# Define inputs and output gradients.
x = tf.constant([3.0, 4.0, 5.0])
dz = tf.constant([1.0, 2.0, 3.0])

# Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.sigmoid(x)
dx_tf = g.gradient(z, x, output_gradients=dz)
print(dx_tf)
print(dx == dx_tf)""",
        canonical="z = sigmoid(x)",
        torch="lambda x: torch.sigmoid(x)",
        text_values={"x": X3},
        # output_gradients=dz: the output gradient is dz's value.
        text_seed=DZ3,
    ),
    Entry(
        id="tf-sigmoid-notebook",
        source=SIG + " (import cell, inputs cell, GradientTape cell)",
        notation="tf",
        text=r"""import tensorflow as tf

# Define inputs and output gradients.
x = tf.constant([3.0, 4.0, 5.0])
dz = tf.constant([1.0, 2.0, 3.0])

# Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.sigmoid(x)
dx_tf = g.gradient(z, x, output_gradients=dz)
print(dx_tf)
print(dx == dx_tf)""",
        canonical="z = sigmoid(x)",
        torch="lambda x: torch.sigmoid(x)",
        text_values={"x": X3},
        text_seed=DZ3,
    ),
    Entry(
        id="tf-sigmoid-exercise-cell",
        source=SIG + " (exercise cell)",
        notation="tf",
        text=r"""# Define the gradient.
def grad_sigmoid(x, dz):
    # (Add implementation here)
dx = grad_sigmoid(x,dz)
print(dx)""",
        # The def's body is only a comment (the student fills it in): there is nothing to
        # compute, and Python itself refuses it.
        canonical="",
        torch="",
        values={"x": X3, "dz": DZ3},
        expect_error="",
    ),
    Entry(
        id="tf-sigmoid-grad-def",
        source=SIG + " (possible implementation)",
        notation="tf",
        text=r"""def grad_sigmoid(x, dz):
    return dz*tf.sigmoid(x)*(1-tf.sigmoid(x))""",
        # a def never called is the program: dx = dz sigma(x) (1 - sigma(x)).
        canonical="dz * sigmoid(x) * (1 - sigmoid(x))",
        torch="lambda x, dz: dz * torch.sigmoid(x) * (1 - torch.sigmoid(x))",
        values={"x": X3, "dz": DZ3},
    ),
    Entry(
        id="tf-sigmoid-grad-expr",
        source=SIG + " (possible implementation)",
        notation="tf",
        text=r"""dz*tf.sigmoid(x)*(1-tf.sigmoid(x))""",
        canonical="dz * sigmoid(x) * (1 - sigmoid(x))",
        torch="lambda x, dz: dz * torch.sigmoid(x) * (1 - torch.sigmoid(x))",
        values={"x": X3, "dz": DZ3},
    ),
    Entry(
        id="tf-sigmoid-values-grad-def",
        source=SIG + " (inputs cell and possible implementation)",
        notation="tf",
        text=r"""# Define inputs and output gradients.
x = tf.constant([3.0, 4.0, 5.0])
dz = tf.constant([1.0, 2.0, 3.0])

def grad_sigmoid(x, dz):
    return dz*tf.sigmoid(x)*(1-tf.sigmoid(x))""",
        # no GradientTape here: dz is an input of the def like x, with the value line's value.
        canonical="dz * sigmoid(x) * (1 - sigmoid(x))",
        torch="lambda x, dz: dz * torch.sigmoid(x) * (1 - torch.sigmoid(x))",
        text_values={"x": X3, "dz": DZ3},
    ),
    Entry(
        id="tf-sigmoid-local-gradient",
        source=SIG + " (the derivative, right side of [dσ(x)]_i)",
        notation="latex",
        text=r"""\sigma(x_{i})(1-\sigma(x_{i}))""",
        # x_{i} is x elementwise: sigma(x) (1 - sigma(x)), the sigmoid's local gradient.
        canonical="sigmoid(x) * (1 - sigmoid(x))",
        torch="lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))",
        values={"x": X3},
    ),
    Entry(
        id="tf-sigmoid-dx-result",
        source=SIG + " (last step of dx_j)",
        notation="latex",
        text=r"""$ = dz_j \sigma(x_{j})(1-\sigma(x_{j}))$""",
        # The result of the derivation above it (no ∂ left): dx = dz sigma(x) (1 - sigma(x)),
        # elementwise (the same index j on every factor). Nothing stands left of '='.
        canonical="dz * sigmoid(x) * (1 - sigmoid(x))",
        torch="lambda x, dz: dz * torch.sigmoid(x) * (1 - torch.sigmoid(x))",
        values={"x": X3, "dz": DZ3},
    ),
    # ---------------------------------------------------------------- 2. softmax
    Entry(
        id="tf-softmax-heading",
        source=SOFT + " (heading)",
        notation="latex",
        text=r"""$\sigma_s(x_i) = e^{x_i}/\sum_{j}{e^{x_j}}$""",
        # a header naming the output sigma_s; e^{x_i} over the sum of all e^{x_j}.
        canonical="sigma_s = e^x / sum(e^x)",
        torch="lambda x: torch.exp(x) / torch.exp(x).sum()",
        values={"x": X3},
    ),
    Entry(
        id="tf-softmax-z",
        source=SOFT,
        notation="latex",
        text=r"""$z_i = [\sigma_s(x)]_i = e^{x_i}/\sum_{j}{e^{x_j}}$""",
        canonical="z = e^x / sum(e^x)",
        torch="lambda x: torch.exp(x) / torch.exp(x).sum()",
        values={"x": X3},
    ),
    Entry(
        id="tf-softmax-tape-line",
        source=SOFT + " (GradientTape cell)",
        notation="tf",
        text=r"""    z = tf.nn.softmax(x)""",
        canonical="z = softmax(x)",
        torch="lambda x: torch.softmax(x, 0)",
        values={"x": X3},
    ),
    Entry(
        id="tf-softmax-tape-cell",
        source=SOFT + " (GradientTape cell)",
        notation="tf",
        text=r"""# Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.nn.softmax(x)
dx_tf = g.gradient(z, x, output_gradients=dz)
print(dx_tf)
print(dx == dx_tf)""",
        canonical="z = softmax(x)",
        torch="lambda x: torch.softmax(x, 0)",
        values={"x": X3},
        seed=DZ3,
    ),
    Entry(
        id="tf-softmax-values-tape",
        source=SOFT + " (inputs cell and GradientTape cell)",
        notation="tf",
        text=r"""# Define inputs
x = tf.constant([3.0, 4.0, 5.0])
dz = tf.constant([1.0, 2.0, 3.0])

# Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.nn.softmax(x)
dx_tf = g.gradient(z, x, output_gradients=dz)
print(dx_tf)
print(dx == dx_tf)""",
        canonical="z = softmax(x)",
        torch="lambda x: torch.softmax(x, 0)",
        text_values={"x": X3},
        text_seed=DZ3,
    ),
    Entry(
        id="tf-softmax-exercise-cell",
        source=SOFT + " (exercise cell)",
        notation="tf",
        text=r"""# Define the gradient.
def grad_softmax(x, dz):
    # (Add implementation here)
dx = grad_softmax(x, dz)
print(dx)""",
        # The def's body is only a comment: nothing to compute.
        canonical="",
        torch="",
        values={"x": X3, "dz": DZ3},
        expect_error="",
    ),
    Entry(
        id="tf-softmax-grad-def",
        source=SOFT + " (possible implementation)",
        notation="tf",
        text=r"""def grad_softmax(x,dz):
    return tf.nn.softmax(x)*(dz - tf.tensordot(tf.nn.softmax(x), dz, 1))""",
        # tensordot of two vectors over 1 axis is their dot product:
        # dx = s (dz - dz . s), s = softmax(x).
        canonical="softmax(x) * (dz - dot(softmax(x), dz))",
        torch="lambda x, dz: torch.softmax(x, 0) * (dz - torch.dot(torch.softmax(x, 0), dz))",
        values={"x": X3, "dz": DZ3},
    ),
    Entry(
        id="tf-softmax-grad-expr",
        source=SOFT + " (possible implementation)",
        notation="tf",
        text=r"""tf.nn.softmax(x)*(dz - tf.tensordot(tf.nn.softmax(x), dz, 1))""",
        canonical="softmax(x) * (dz - dot(softmax(x), dz))",
        torch="lambda x, dz: torch.softmax(x, 0) * (dz - torch.dot(torch.softmax(x, 0), dz))",
        values={"x": X3, "dz": DZ3},
    ),
    Entry(
        id="tf-softmax-values-grad-def",
        source=SOFT + " (inputs cell and possible implementation)",
        notation="tf",
        text=r"""# Define inputs
x = tf.constant([3.0, 4.0, 5.0])
dz = tf.constant([1.0, 2.0, 3.0])

def grad_softmax(x,dz):
    return tf.nn.softmax(x)*(dz - tf.tensordot(tf.nn.softmax(x), dz, 1))""",
        canonical="softmax(x) * (dz - dot(softmax(x), dz))",
        torch="lambda x, dz: torch.softmax(x, 0) * (dz - torch.dot(torch.softmax(x, 0), dz))",
        text_values={"x": X3, "dz": DZ3},
    ),
    # ---------------------------------------------------------------- 3. matmul
    Entry(
        id="tf-matmul-index-formula",
        source=MM + " (heading and formula)",
        notation="latex",
        text=r"""$z_{ij} = \sum_k{x_{ik}y_{kj}}$""",
        # Index notation: the sum runs over k only, the index shared by x's columns and y's
        # rows. Dropping the indices (x_{ik} -> x) loses which axis is summed, so this is not
        # read; the matrix product itself is the next entries' tf.matmul(x, y).
        canonical="",
        torch="",
        values={"x": XM, "y": YM},
        expect_error="",
    ),
    Entry(
        id="tf-matmul-tape-line",
        source=MM + " (GradientTape cell)",
        notation="tf",
        text=r"""    z = tf.matmul(x, y)""",
        canonical="z = matmul(x, y)",
        torch="lambda x, y: x @ y",
        values={"x": XM, "y": YM},
    ),
    Entry(
        id="tf-matmul-tape-cell",
        source=MM + " (GradientTape cell)",
        notation="tf",
        text=r"""# Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.matmul(x, y)
dx_tf = g.gradient(z, x, output_gradients=dz)
print(dx_tf)
print(dx == dx_tf)""",
        canonical="z = matmul(x, y)",
        torch="lambda x, y: x @ y",
        values={"x": XM, "y": YM},
        seed=DZM,
    ),
    Entry(
        id="tf-matmul-values-tape",
        source=MM + " (inputs cell and GradientTape cell)",
        notation="tf",
        text=r"""# Define inputs
x = tf.constant([[3.0, 4.0], [5.0, 6.0]])
y = tf.constant([[4.0, 5.0], [6.0, 7.0]])
dz = tf.constant([[1.0, 2.0], [3.0, 4.0]])

# Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(x)
    z = tf.matmul(x, y)
dx_tf = g.gradient(z, x, output_gradients=dz)
print(dx_tf)
print(dx == dx_tf)""",
        canonical="z = matmul(x, y)",
        torch="lambda x, y: x @ y",
        text_values={"x": XM, "y": YM},
        text_seed=DZM,
    ),
    Entry(
        id="tf-matmul-exercise-cell",
        source=MM + " (exercise cell)",
        notation="tf",
        text=r"""# Define the gradient.
def grad_matmul(x, y, dz):
    # (Add implementation here)
dx = grad_matmul(x, y, dz)
print(dx)""",
        # The def's body is only a comment: nothing to compute.
        canonical="",
        torch="",
        values={"x": XM, "y": YM, "dz": DZM},
        expect_error="",
    ),
    Entry(
        id="tf-matmul-grad-def",
        source=MM + " (possible implementation)",
        notation="tf",
        text=r"""def grad_matmul(x, y, dz):
    return tf.matmul(dz,tf.transpose(y))""",
        # dx = dz y^T. The parameter x is not used by the body: it gets no value here (its
        # gradient would be 0).
        canonical="matmul(dz, transpose(y))",
        torch="lambda y, dz: dz @ y.T",
        values={"y": YM, "dz": DZM},
    ),
    Entry(
        id="tf-matmul-grad-expr",
        source=MM + " (possible implementation)",
        notation="tf",
        text=r"""tf.matmul(dz,tf.transpose(y))""",
        canonical="matmul(dz, transpose(y))",
        torch="lambda y, dz: dz @ y.T",
        values={"y": YM, "dz": DZM},
    ),
    Entry(
        id="tf-matmul-values-grad-def",
        source=MM + " (inputs cell and possible implementation)",
        notation="tf",
        text=r"""# Define inputs
x = tf.constant([[3.0, 4.0], [5.0, 6.0]])
y = tf.constant([[4.0, 5.0], [6.0, 7.0]])
dz = tf.constant([[1.0, 2.0], [3.0, 4.0]])

def grad_matmul(x, y, dz):
    return tf.matmul(dz,tf.transpose(y))""",
        # x's value line gives a value the body never uses; y and dz are the def's inputs.
        canonical="matmul(dz, transpose(y))",
        torch="lambda y, dz: dz @ y.T",
        text_values={"y": YM, "dz": DZM},
    ),
    Entry(
        id="tf-matmul-dx-result",
        source=MM + " (the gradient as a matrix product)",
        notation="latex",
        text=r"""$dx = dz \times y^{T}$""",
        # \times between two matrices is the matrix product; y^{T} the transpose.
        canonical="dx = dz @ transpose(y)",
        torch="lambda y, dz: dz @ y.T",
        values={"y": YM, "dz": DZM},
    ),
    # ---------------------------------------------------------------- 4. conv2d
    Entry(
        id="tf-conv-index-formula",
        source=CONV + " (heading and formula)",
        notation="latex",
        text=r"""$z_{ij} = \sum_{kl}{w_{kl}x_{i+k,j+l}}$""",
        # Index notation with shifted indices (x_{i+k,j+l}): a correlation that no elementwise
        # reading of the names can say; the language writes it conv2d(x, w).
        canonical="",
        torch="",
        values={"x": XC, "w": WC},
        expect_error="",
    ),
    Entry(
        id="tf-conv-def-cell",
        source=CONV + " (cell 1: the convolution helper)",
        notation="tf",
        text=r"""# 1. Use this method to perform the convolution.
def conv2d(x, w):
    return tf.nn.conv2d(tf.reshape(x,[1,x.shape[0],x.shape[1],1]),
                        tf.reshape(w,[w.shape[0],w.shape[1],1,1]), 
                        strides=[1,1],
                        padding="VALID")""",
        # A def never called: its body is the program. x (4x4) becomes one NHWC image
        # (1, 4, 4, 1), w (2x2) one HWIO filter (2, 2, 1, 1); the shapes come from the values.
        canonical="conv2d(reshape(x, (1, 4, 4, 1)), reshape(w, (2, 2, 1, 1)), stride=(1, 1), "
                  "padding='valid')",
        torch=CONV_NHWC,
        values={"x": XC, "w": WC},
    ),
    Entry(
        id="tf-conv-tape-line",
        source=CONV + " (cell 4: GradientTape)",
        notation="tf",
        text=r"""    z = conv2d(x,w)""",
        # Alone, conv2d is the language's: a 2-D input with a 2-D kernel is one channel.
        canonical="z = conv2d(x, w)",
        torch="lambda x, w: F.conv2d(x[None, None], w[None, None])[0, 0]",
        values={"x": XC, "w": WC},
    ),
    Entry(
        id="tf-conv-program",
        source=CONV + " (cells 1, 2 and 4: helper, inputs, GradientTape)",
        notation="tf",
        text=r"""# 1. Use this method to perform the convolution.
def conv2d(x, w):
    return tf.nn.conv2d(tf.reshape(x,[1,x.shape[0],x.shape[1],1]),
                        tf.reshape(w,[w.shape[0],w.shape[1],1,1]), 
                        strides=[1,1],
                        padding="VALID")

# 2. Define inputs
x = tf.constant([[3.0, 4.0, 5.0, 6.0], 
                 [4.0, 5.0, 6.0, 7.0],
                 [5.0, 6.0, 7.0, 8.0],
                 [6.0, 7.0, 8.0, 9.0]])
w = tf.constant([[1.0, 2.0], 
                 [3.0, 4.0]])
dz = tf.constant([[1.0, 1.0, 1.0], 
                  [2.0, 2.0, 2.0],
                  [3.0, 3.0, 3.0]])

# 4. Compute the gradient with Tensorflow.
with tf.GradientTape() as g:
    g.watch(w)
    z = conv2d(x,w)
dx_tf = g.gradient(z, w, 
         output_gradients=tf.reshape(dz,[1,dz.shape[0],dz.shape[1],1]))
print(dx_tf)
print(dx == dx_tf)""",
        # The user's def is called: one gate (its name is also the language's conv2d, which
        # its body calls). The output gradient is dz reshaped to NHWC (1, 3, 3, 1).
        canonical="def conv2d(x, w): return conv2d(reshape(x, (1, 4, 4, 1)), "
                  "reshape(w, (2, 2, 1, 1)), stride=(1, 1), padding='valid')\n"
                  "z = conv2d(x, w)",
        torch=CONV_NHWC,
        text_values={"x": XC, "w": WC},
        text_seed=DZC_NHWC,
    ),
    Entry(
        id="tf-conv-exercise-cell",
        source=CONV + " (cell 3: exercise)",
        notation="tf",
        text=r"""# 3. Define the gradient.
def grad_conv2d(x, w, dz):
    # (Add implementation here)
dx = grad_conv2d(x, w, dz)
dx = tf.reshape(dx, [w.shape[0],w.shape[1]]) # Reshape to remove channel and batch number dimensions.
print(dx)""",
        # The def's body is only a comment: nothing to compute.
        canonical="",
        torch="",
        values={"x": XC, "w": WC, "dz": DZC},
        expect_error="",
    ),
    Entry(
        id="tf-conv-grad-def",
        source=CONV + " (possible implementation)",
        notation="tf",
        text=r"""def grad_conv2d(x, w, dz):
    return conv2d(x, dz)""",
        # dw = x * dz, the correlation of the image with the output gradient (2x2, w's
        # shape); alone, conv2d is the language's. w is not used by the body: no value.
        canonical="conv2d(x, dz)",
        torch="lambda x, dz: F.conv2d(x[None, None], dz[None, None])[0, 0]",
        values={"x": XC, "dz": DZC},
    ),
    Entry(
        id="tf-conv-grad-expr",
        source=CONV + " (possible implementation)",
        notation="tf",
        text=r"""conv2d(x, dz)""",
        canonical="conv2d(x, dz)",
        torch="lambda x, dz: F.conv2d(x[None, None], dz[None, None])[0, 0]",
        values={"x": XC, "dz": DZC},
    ),
    Entry(
        id="tf-conv-helper-and-grad",
        source=CONV + " (cell 1 and the possible implementation)",
        notation="tf",
        text=r"""# 1. Use this method to perform the convolution.
def conv2d(x, w):
    return tf.nn.conv2d(tf.reshape(x,[1,x.shape[0],x.shape[1],1]),
                        tf.reshape(w,[w.shape[0],w.shape[1],1,1]), 
                        strides=[1,1],
                        padding="VALID")

def grad_conv2d(x, w, dz):
    return conv2d(x, dz)""",
        # grad_conv2d is never called: its body is the program, and it calls the helper (a
        # gate, as in tf-conv-program) with dz (3x3) as the filter, so the
        # filter's reshape is (3, 3, 1, 1) and dw comes out NHWC (1, 2, 2, 1).
        canonical="def conv2d(x, w): return conv2d(reshape(x, (1, 4, 4, 1)), "
                  "reshape(w, (3, 3, 1, 1)), stride=(1, 1), padding='valid')\n"
                  "conv2d(x, dz)",
        torch="lambda x, dz: F.conv2d(x.reshape(1, 1, 4, 4), dz.reshape(1, 1, 3, 3))"
              ".permute(0, 2, 3, 1)",
        values={"x": XC, "dz": DZC},
    ),
]

# Reasons, shared by many lines.
_PARTIAL = "a derivation: ∂ (a derivative written out), not a computation"
_NABLA = "a derivation: ∇ names the gradient, not a computation"
_DELTA = "a derivation step with the Kronecker δ_ij (index bookkeeping), not a computation"
_NAME = "a name in the prose: computes nothing"

EXCLUDED = [
    Excluded(INTRO, r"""$L(\vec{y})$""", "the loss named as a function of y, with no formula"),
    Excluded(INTRO, r"""$\vec{y}$""", _NAME),
    Excluded(INTRO, r"""$\nabla L$""", _NABLA),
    Excluded(INTRO, r"""$W_i$""", _NAME),
    Excluded(INTRO, r"""$-\nabla L$""", _NABLA),
    Excluded(INTRO, r"""$W_{i} \rightarrow W_{i} - \frac{\partial L}{\partial W_{i}}\epsilon$""",
             "the update rule: → is an assignment over steps and ∂L/∂W_i a derivative"),
    Excluded(INTRO, r"""$\frac{\partial L}{\partial W_{i}} = \sum_{j}\frac{\partial L}{\partial z_{j}}\sum_{k}\frac{\partial z_{j}}{\partial y_{k}}\frac{\partial y_{k}}{\partial W_{i}} = \sum_{j,k}\frac{\partial L}{\partial z_{j}}\frac{\partial z_{j}}{\partial y_{k}}\frac{\partial y_{k}}{\partial W_{i}} = \sum_{j,k}\frac{\partial y_{k}}{\partial W_{i}}\frac{\partial z_{j}}{\partial y_{k}}\frac{\partial L}{\partial z_{j}}$""",
             "the chain rule: " + _PARTIAL),
    Excluded(INTRO, r"""$ = \sum_{j,k}\frac{\partial y_{k}}{\partial W_{i}}\Bigl[\frac{\partial z_{j}}{\partial y_{k}}\Bigl(\frac{\partial L}{\partial z_{j}}\Bigr)\Bigr] = \sum_{k}\frac{\partial y_{k}}{\partial W_{i}}\sum_{j}\Bigl[\frac{\partial z_{j}}{\partial y_{k}}dz_{j}\Bigr]$, where $dz_{j} = \frac{\partial L}{\partial z_{j}}$""",
             "the chain rule regrouped: " + _PARTIAL),
    Excluded(INTRO, r"""$ = \sum_{k}\frac{\partial y_{k}}{\partial W_{i}} dy_{k}$, where $dy_{k} = \sum_{j}\Bigl[\frac{\partial z_{j}}{\partial y_{k}}dz_{j}\Bigr]$""",
             "the chain rule regrouped: " + _PARTIAL),
    Excluded(INTRO, r"""$x_i$""", _NAME),
    Excluded(INTRO, r"""$dy_{k}$""", "the output gradient named in the prose: computes nothing"),
    Excluded(INTRO, r"""$dW_{i} = \frac{\partial L}{\partial W_{i}} = \sum_{k}\frac{\partial y_{k}}{\partial W_{i}}dy_{k}$""",
             "the backward rule of an op: " + _PARTIAL),
    Excluded(INTRO, r"""$dx_{i} = \frac{\partial L}{\partial x_{i}} = \sum_{k}\frac{\partial y_{k}}{\partial x_{i}}dy_{k}$""",
             "the backward rule of an op: " + _PARTIAL),
    Excluded(SIG, r"""$dx$""", "the gradient to compute, named in 'Compute $dx$.'"),
    Excluded(SIG, r"""$\frac{\partial[\vec{\sigma}(\vec{x})]_i}{\partial x_j} = \frac{-1}{(1 + e^{-x_i})^2}\cdot e^{-x_i}\cdot(-1)\cdot\frac{\partial x_i}{\partial x_j}$""",
             "the sigmoid's derivative worked out: " + _PARTIAL),
    Excluded(SIG, r"""$= \frac{1}{(1 + e^{-z})}\cdot\frac{e^{-x_i}}{(1+e^{-x_i})}\cdot\delta_{ij}$""",
             _DELTA),
    Excluded(SIG, r"""$= \sigma(x_{i})\cdot\frac{1 + e^{-x_i} - 1}{(1+e^{-x_i})}\cdot\delta_{ij}$""",
             _DELTA),
    Excluded(SIG, r"""$= \sigma(x_{i})(1-\sigma(x_{i}))\delta_{ij}$""", _DELTA),
    Excluded(SIG + "; also 2. The softmax function",
             r"""$dx_j = \sum_i dz_i \frac{\partial\sigma(x)_i}{\partial x_j}$""",
             "the backward rule (vector-Jacobian product): " + _PARTIAL),
    Excluded(SIG, r"""$ = \sum_i dz_i \sigma(x_{i})(1-\sigma(x_{i}))\delta_{ij}$""", _DELTA),
    Excluded(SIG, r"""$d\vec{x} = d\vec{z} \cdot d\vec{\sigma}(x)$""",
             "differentials dx, dz, dσ: the backward rule in words of gradients, not a forward "
             "computation (the result is the entry tf-sigmoid-dx-result)"),
    Excluded(SIG, r"""$[d\vec{\sigma}(x)]_i = \sigma(x_{i})(1-\sigma(x_{i}))$""",
             "the left side names the derivative dσ (a differential); the right side is the "
             "entry tf-sigmoid-local-gradient"),
    Excluded(SOFT, r"""$\frac{\partial[\vec{\sigma_s}(\vec{x})]_i}{\partial x_j} = \frac{e^{x_i}\delta_{ij}}{\sum_k e^{x_k}} - \frac{e^{x_i}\cdot\sum_k e^{x_k}\delta_{jk}}{\bigl(\sum_{k}{e^{x_k}}\bigr)^2}$""",
             "the softmax's derivative worked out: " + _PARTIAL),
    Excluded(SOFT, r"""$= \frac{e^{x_i}\delta_{ij}}{\sum_k e^{x_k}} - \frac{e^{x_i}e^{x_j}}{\bigl(\sum_{k}{e^{x_k}\bigr)^2}}$""",
             _DELTA),
    Excluded(SOFT, r"""$= [\sigma_s(x)]_i\delta_{ij} - [\sigma_s(x)]_i[\sigma_s(x)]_j$""", _DELTA),
    Excluded(SOFT, r"""$= [\sigma_s(x)]_i(\delta_{ij} - [\sigma_s(x)]_j)$""", _DELTA),
    Excluded(SOFT, r"""$ = \sum_i dz_i [\sigma_s(x)]_i(\delta_{ij} - [\sigma_s(x)]_j)$""", _DELTA),
    Excluded(SOFT, r"""$ = dz_j [\sigma_s(x)]_j - dz\cdot\sigma_s[\sigma_s(x)]_j$""",
             "a derivation step: σ_s stands both for the function and for its output vector "
             "(σ_s[σ_s(x)]_j), so it has no reading; the implementation is grad_softmax"),
    Excluded(SOFT, r"""$ = [\sigma_s(x)]_j(dz_j - d\vec{z}\cdot\vec{\sigma_s})$""",
             "the last derivation step: \\vec{\\sigma_s} is the softmax's output without its "
             "argument and d\\vec{z} a differential; the same result is the entry "
             "tf-softmax-grad-expr"),
    Excluded(MM, r"""$\frac{\partial z_{ij}}{\partial x_{lm}} = \sum_k{\delta_{il}\delta_{km}}y_{kj}$""",
             "the matrix product's derivative: " + _PARTIAL),
    Excluded(MM, r"""$= \delta_{il}y_{mj}$""", _DELTA),
    Excluded(MM, r"""$dx_{lm} = \sum_{ij} dz_{ij} \frac{\partial z_{ij}}{\partial x_{lm}}$""",
             "the backward rule: " + _PARTIAL),
    Excluded(MM, r"""$ = \sum_{ij} dz_{ij} \delta_{il}y_{mj}$""", _DELTA),
    Excluded(MM, r"""$ = \sum_{j}dz_{lj}y_{mj}$""",
             "a derivation step in index notation: the sum over j pairs dz's columns with y's "
             "columns; with the indices dropped it cannot say so (the result is "
             "tf-matmul-dx-result)"),
    Excluded(MM, r"""$ = \sum_{j}dz_{lj}y^{T}_{jm}$""",
             "a derivation step in index notation (the sum over j of dz_{lj} y^T_{jm}); the "
             "result is tf-matmul-dx-result"),
    Excluded(CONV, r"""$x * w$""",
             "here * is the convolution, but a typed * reads as the elementwise product (4x4 "
             "by 2x2 has no meaning): the convolution is written conv2d(x, w)"),
    Excluded(CONV, r"""$k\times l$""", "the filter's size (k rows by l columns), not a product"),
    Excluded(CONV, r"""$dw$""", "the gradient to compute, named in 'Compute $dw$.'"),
    Excluded(CONV, r"""$\frac{\partial z_{ij}}{\partial w_{mn}} = \sum_{kl}{\delta_{km}\delta_{ln}}x_{i+k,j+l}$""",
             "the convolution's derivative: " + _PARTIAL),
    Excluded(CONV, r"""$= x_{i+m,j+n}$""",
             "a derivation step: one entry of the local derivative, with shifted indices"),
    Excluded(CONV, r"""$dw_{mn} = \sum_{ij} dz_{ij} \frac{\partial z_{ij}}{\partial w_{mn}}$""",
             "the backward rule: " + _PARTIAL),
    Excluded(CONV, r"""$ = \sum_{ij} dz_{ij}x_{i+m,j+n}$""",
             "a derivation step in index notation with shifted indices (x_{i+m,j+n}): a "
             "correlation the names alone cannot say; the result is tf-conv-grad-expr"),
    Excluded(CONV, r"""$ = \sum_{ij} dz_{ij}x_{m+i,n+j}$""",
             "a derivation step in index notation with shifted indices (x_{m+i,n+j}); the "
             "result is tf-conv-grad-expr"),
    Excluded(CONV, r"""$dw = x * dz$""",
             "the derivation's conclusion, where * is the convolution; a typed * reads as the "
             "elementwise product (4x4 by 3x3 has no meaning): it is conv2d(x, dz), the entry "
             "tf-conv-grad-expr"),
]

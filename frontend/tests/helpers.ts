import type { ReadAnswer, Trace } from "../src/api";
import { decodeTrace } from "../src/api";
import circuitForwardJson from "./fixtures/circuit-forward.json";
import circuitNamed from "./fixtures/circuit-named.json";
import fanOut from "./fixtures/fan-out.json";
import indexAssignJson from "./fixtures/index-assign.json";
import log0 from "./fixtures/log0.json";
import matmulSeeded from "./fixtures/matmul-seeded.json";
import softmaxCe from "./fixtures/softmax-ce.json";
import tinyCnnJson from "./fixtures/tiny-cnn.json";
import twoLayerJson from "./fixtures/two-layer.json";
import whereCondition from "./fixtures/where-condition.json";

// Real answers of /api/trace (saved from the server by scripts/fixtures.py), decoded as the app
// decodes them.
export const circuit = (): Trace => decodeTrace(structuredClone(circuitNamed) as unknown as Trace);
/** A fake POST /api/read answering with `t`'s reading, whatever the text (the circuit's: x, y, z). */
export const readingOf = (t: Trace = circuit()) => async (): Promise<ReadAnswer> => ({ reading: t.reading, warnings: [] });
export const fanout = (): Trace => decodeTrace(structuredClone(fanOut) as unknown as Trace);
export const matmul = (): Trace => decodeTrace(structuredClone(matmulSeeded) as unknown as Trace);
export const logZero = (): Trace => decodeTrace(structuredClone(log0) as unknown as Trace);
// Forward mode for (x + y) * z, x=-2, y=5, z=-4, wrt=x, as the server answers it.
export const circuitForward = (): Trace => decodeTrace(structuredClone(circuitForwardJson) as unknown as Trace);
// The presets softmax-cross-entropy (y: labels) and index-assign (x[0], y[0] = ...), and
// where(c, a, b) (c: a condition), as the server answers them.
export const softmaxCrossEntropy = (): Trace => decodeTrace(structuredClone(softmaxCe) as unknown as Trace);
export const indexAssign = (): Trace => decodeTrace(structuredClone(indexAssignJson) as unknown as Trace);
export const whereOf = (): Trace => decodeTrace(structuredClone(whereCondition) as unknown as Trace);
// The preset two-layer (h = sigmoid(X @ W1); out = sigmoid(h @ W2); cost = sum((out - y)^2) / 2),
// as the server answers it: tensor steps with their numbers.
export const twoLayer = (): Trace => decodeTrace(structuredClone(twoLayerJson) as unknown as Trace);
// The preset tiny-cnn (conv2d, max-pooling, a linear layer, cross-entropy on NHWC images), as the
// server answers it: tensors too large for a formula.
export const tinyCnn = (): Trace => decodeTrace(structuredClone(tinyCnnJson) as unknown as Trace);

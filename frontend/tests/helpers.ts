import type { Trace } from "../src/api";
import { decodeTrace } from "../src/api";
import circuitForwardJson from "./fixtures/circuit-forward.json";
import circuitNamed from "./fixtures/circuit-named.json";
import fanOut from "./fixtures/fan-out.json";
import indexAssignJson from "./fixtures/index-assign.json";
import log0 from "./fixtures/log0.json";
import matmulSeeded from "./fixtures/matmul-seeded.json";
import softmaxCe from "./fixtures/softmax-ce.json";
import whereCondition from "./fixtures/where-condition.json";

// Real answers of /api/trace (saved from the server), decoded as the app decodes them.
export const circuit = (): Trace => decodeTrace(structuredClone(circuitNamed) as unknown as Trace);
export const fanout = (): Trace => decodeTrace(structuredClone(fanOut) as unknown as Trace);
export const matmul = (): Trace => decodeTrace(structuredClone(matmulSeeded) as unknown as Trace);
export const logZero = (): Trace => decodeTrace(structuredClone(log0) as unknown as Trace);
// Forward mode for (x + y) * z, x=-2, y=5, z=-4, wrt=x, in the shape of the forward-mode contract
// (written before the server answered it; see circuit-forward.json).
export const circuitForward = (): Trace => decodeTrace(structuredClone(circuitForwardJson) as unknown as Trace);
// The presets softmax-cross-entropy (y: labels) and index-assign (x[0], y[0] = ...), and
// where(c, a, b) (c: a condition), as the server answers them.
export const softmaxCrossEntropy = (): Trace => decodeTrace(structuredClone(softmaxCe) as unknown as Trace);
export const indexAssign = (): Trace => decodeTrace(structuredClone(indexAssignJson) as unknown as Trace);
export const whereOf = (): Trace => decodeTrace(structuredClone(whereCondition) as unknown as Trace);

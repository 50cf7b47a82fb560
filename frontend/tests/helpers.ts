import type { Trace } from "../src/api";
import { decodeTrace } from "../src/api";
import circuitNamed from "./fixtures/circuit-named.json";
import fanOut from "./fixtures/fan-out.json";
import log0 from "./fixtures/log0.json";
import matmulSeeded from "./fixtures/matmul-seeded.json";

// Real answers of /api/trace (saved from the server), decoded as the app decodes them.
export const circuit = (): Trace => decodeTrace(structuredClone(circuitNamed) as unknown as Trace);
export const fanout = (): Trace => decodeTrace(structuredClone(fanOut) as unknown as Trace);
export const matmul = (): Trace => decodeTrace(structuredClone(matmulSeeded) as unknown as Trace);
export const logZero = (): Trace => decodeTrace(structuredClone(log0) as unknown as Trace);

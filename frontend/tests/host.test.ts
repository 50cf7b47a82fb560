import { describe, expect, it } from "vitest";
import { commandIndex, parseHostMessage, steppedMessage } from "../src/host";
import { stepState } from "../src/steps";
import { circuit } from "./helpers";

describe("host messages", () => {
  it("accepts exactly the protocol's commands", () => {
    expect(parseHostMessage({ type: "gradtrace:step", step: "b3" })).toEqual({ type: "gradtrace:step", step: "b3" });
    expect(parseHostMessage({ type: "gradtrace:step", step: "f1" })).toEqual({ type: "gradtrace:step", step: "f1" });
    for (const step of ["start", "end", "backward"]) expect(parseHostMessage({ type: "gradtrace:step", step })).toEqual({ type: "gradtrace:step", step });
    expect(parseHostMessage({ type: "gradtrace:step", step: 4 })).toEqual({ type: "gradtrace:step", step: 4 });
    expect(parseHostMessage({ type: "gradtrace:next" })).toEqual({ type: "gradtrace:next" });
    expect(parseHostMessage({ type: "gradtrace:prev" })).toEqual({ type: "gradtrace:prev" });
  });
  it("ignores anything else", () => {
    const bad: unknown[] = [
      null, undefined, "gradtrace:next", 3, [], ["gradtrace:next"],
      { type: "gradtrace:nxt" }, { type: "GRADTRACE:NEXT" }, { type: "gradtrace:next", extra: 1 },
      { type: "gradtrace:step" }, { type: "gradtrace:step", step: "b0" }, { type: "gradtrace:step", step: "b3 " },
      { type: "gradtrace:step", step: "x3" }, { type: "gradtrace:step", step: -1 }, { type: "gradtrace:step", step: 1.5 },
      { type: "gradtrace:step", step: Number.NaN }, { type: "gradtrace:step", step: Infinity },
      { type: "gradtrace:step", step: "<script>" }, { type: "gradtrace:step", step: { k: 1 } },
      { type: "gradtrace:step", step: "b3", more: true }, { type: "gradtrace:stepped", step: "b3" },
      { type: "gradtrace:step", step: 1e12 },
      new Date(), Object.assign(Object.create({ inherited: 1 }) as object, { type: "gradtrace:next" }),
    ];
    for (const data of bad) expect(parseHostMessage(data), JSON.stringify(data)).toBeNull();
  });
  it("turns commands into step indices, clamped", () => {
    // 5 forward steps, 5 backward steps
    expect(commandIndex({ type: "gradtrace:step", step: "b3" }, 0, 5, 5)).toBe(7);
    expect(commandIndex({ type: "gradtrace:step", step: "f2" }, 0, 5, 5)).toBe(1);
    expect(commandIndex({ type: "gradtrace:step", step: "end" }, 0, 5, 5)).toBe(9);
    expect(commandIndex({ type: "gradtrace:step", step: "start" }, 6, 5, 5)).toBe(0);
    expect(commandIndex({ type: "gradtrace:step", step: "b99" }, 0, 5, 5)).toBe(9);
    expect(commandIndex({ type: "gradtrace:step", step: 99 }, 0, 5, 5)).toBe(9);
    expect(commandIndex({ type: "gradtrace:next" }, 9, 5, 5)).toBe(9);
    expect(commandIndex({ type: "gradtrace:next" }, 3, 5, 5)).toBe(4);
    expect(commandIndex({ type: "gradtrace:prev" }, 0, 5, 5)).toBe(0);
    expect(commandIndex({ type: "gradtrace:prev" }, 7, 5, 5)).toBe(6);
    expect(commandIndex({ type: "gradtrace:next" }, 0, 0, 0)).toBeNull();
  });
  it("formats the stepped event from the step model", () => {
    const t = circuit();
    const F = t.forward.length;
    const st = stepState(t, F + 2);
    expect(steppedMessage(st, F)).toEqual({
      type: "gradtrace:stepped", step: "b3", index: F + 2, total: st.total, phase: "backward", k: 3, n: t.backward.length,
      label: `backward 3/${t.backward.length}`,
    });
    expect(steppedMessage(stepState(t, 0), F, "gradtrace:ready")).toMatchObject({ type: "gradtrace:ready", step: "f1", label: `forward 1/${F}` });
    // Structured-clone safe: plain data only.
    expect(JSON.parse(JSON.stringify(steppedMessage(st, F)))).toEqual(steppedMessage(st, F));
  });
});

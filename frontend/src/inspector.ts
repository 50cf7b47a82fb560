// The node inspector: the current (or clicked) node's value and gradient (in forward mode its
// tangent), as numbers or as heat-coloured tensors; for a gate, a button that opens it into its
// parts, and for a part of an opened gate, one that closes that gate (gates.ts).

import type { Trace } from "./api";
import { formatShape } from "./format";
import { gateTitle } from "./gates";
import { labelRole, labelsSentence, nodeLabel, nodeWhat } from "./node-words";
import type { StepState } from "./steps";
import { htmlEl } from "./svg";
import { renderTensor } from "./tensor-view";

export class Inspector {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private shown: { trace: Trace; key: string } | null = null;
  /** Open (true) or close (false) a gate; null: no gate buttons (the offline file). */
  onGateToggle: ((id: string, open: boolean) => void) | null = null;

  constructor(parent: HTMLElement) {
    this.el = htmlEl("section", { class: "panel inspector", "aria-label": "node", "data-testid": "inspector" }, parent);
    htmlEl("h2", { class: "panel-title" }, this.el, "Node");
    this.body = htmlEl("div", { class: "inspector-body" }, this.el);
  }

  show(trace: Trace, st: StepState, pinned: string | null): void {
    const id = pinned ?? st.current;
    const n = trace.nodes.find((x) => x.id === id);
    const key = `${id}|${id !== null && st.valued.has(id)}|${id !== null && st.graded.has(id)}|${pinned}`;
    if (this.shown && this.shown.trace === trace && this.shown.key === key) return;
    this.shown = { trace, key };
    this.body.replaceChildren();
    if (!n) return;
    const role = labelRole(trace, n);
    const name = nodeLabel(trace, n);
    // The node as the step's title names it (e = exp(a), x (input)), and its shape (1×3).
    const shape = n.shape.length ? ` · ${formatShape(n.shape)}` : "";
    htmlEl("div", { class: "inspector-head" }, this.body, `${nodeWhat(trace, n)}${shape}${pinned ? " (selected: click it again to follow the steps)" : ""}`);
    this.gateButtons(trace, n.gate_id, n.in_gate, n.op);
    const row = htmlEl("div", { class: "inspector-row" }, this.body);
    if (st.valued.has(n.id)) row.appendChild(renderTensor(n.value, role === "labels" ? "labels" : "value", name)).classList.add("is-value");
    // Labels take no gradient, in either mode: said in words, where a gradient would be.
    if (role) {
      htmlEl("p", { class: "note", "data-testid": "inspector-labels" }, this.body, labelsSentence(n.label, role));
      return;
    }
    if (st.mode === "forward") {
      // The tangent once the node's step is reached (0 where it does not depend on wrt).
      if (st.valued.has(n.id)) {
        if (n.tangent !== null && n.tangent !== undefined) {
          row.appendChild(renderTensor(n.tangent, `tangent d/d${trace.wrt ?? "?"}`, `d${name}/d${trace.wrt ?? "?"}`)).classList.add("is-tangent");
        } else {
          htmlEl("p", { class: "note" }, this.body, `Does not depend on ${trace.wrt ?? "wrt"}: tangent 0.`);
        }
      }
      return;
    }
    if (st.graded.has(n.id) && n.grad !== null) row.appendChild(renderTensor(n.grad, "gradient", `d${name}`)).classList.add("is-grad");
    else if (n.kind === "const") htmlEl("p", { class: "note" }, this.body, "A constant: no gradient.");
  }

  private gateButtons(trace: Trace, gate: string | null, inGate: string | null, op: string | null): void {
    const toggle = this.onGateToggle;
    if (!toggle || (!gate && !inGate)) return;
    const bar = htmlEl("div", { class: "inspector-gate" }, this.body);
    if (gate) {
      const b = htmlEl("button", { type: "button", "data-testid": "inspector-open-gate", title: `${op ?? "this op"} is made of simpler ops: show them` }, bar, "⊕ Open this gate into its parts");
      b.addEventListener("click", () => toggle(gate, true));
    }
    if (inGate) {
      const b = htmlEl("button", { type: "button", "data-testid": "inspector-close-gate", title: `draw ${gateTitle(trace, inGate)} as one node again` }, bar, `⊖ Close the gate ${gateTitle(trace, inGate)}`);
      b.addEventListener("click", () => toggle(inGate, false));
    }
  }
}

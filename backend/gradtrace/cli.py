"""The `gradtrace` command: `trace` prints a trace as a table (or the API's JSON), `serve` runs the
web app under uvicorn."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from .codec import decode
from .errors import GradtraceError
from .layout import choose_direction, compute_layout
from .render import Format, convert, render_svg, step_view
from .settings import get_settings
from .trace import trace


def _short(v: Any) -> str:
    """A number, or a tensor as a short one-line array."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    a = decode(v)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    text = np.array2string(a, precision=4, threshold=8, edgeitems=2, max_line_width=10_000,
                           separator=", ")
    return " ".join(text.split())


def _direction(v: Any) -> str:
    """A forward-mode direction as typed: `2`, `[1, -1]` (short numbers, no NumPy padding)."""
    if isinstance(v, list):
        return "[" + ", ".join(_direction(x) for x in v) + "]"
    return v if isinstance(v, str) else f"{v:g}"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), line, *(fmt.format(*r) for r in rows)])


def format_trace(t: dict[str, Any]) -> str:
    nodes = {n["id"]: n for n in t["nodes"]}

    def name(node_id: str) -> str:
        n = nodes[node_id]
        return f"{node_id} {n['label']}"

    fwd = [[name(i), nodes[i]["kind"] if nodes[i]["kind"] != "op" else nodes[i]["op"],
            "x".join(map(str, nodes[i]["shape"])) or "scalar", _short(nodes[i]["value"])]
           for i in t["forward"]]
    if t.get("mode") == "forward":
        # One pass left to right: each node's value and its tangent d(node)/d(wrt).
        for row, i in zip(fwd, t["forward"], strict=True):
            row.append(_short(nodes[i].get("tangent")) or "0")
        # A direction other than 1 gives a directional derivative: say which.
        along = "" if t["tangent"] == 1 else f" along {_direction(t['tangent'])}"
        return "\n".join([
            f"Forward mode along {t['wrt']}",
            _table(fwd, ["node", "op", "shape", "value", f"d/d{t['wrt']}"]), "",
            "Output: " + _short(t["value"]),
            f"d(output)/d{t['wrt']}{along} = {_short(t['derivative'])}",
            *(f"warning: {w['message']}" for w in t["warnings"]),
        ])
    out = ["Forward pass", _table(fwd, ["node", "op", "shape", "value"]), ""]
    rows: list[list[str]] = []
    for k, step in enumerate(t["backward"], 1):
        terms = step["terms"]
        sums = " + ".join(_short(x["value"]) for x in terms) if len(terms) > 1 else ""
        up = _short(step["upstream"]) + (f" = {sums}" if sums else "")
        if not step["edges"]:
            rows.append([str(k), name(step["node"]), up, "", "", ""])
        for j, e in enumerate(step["edges"]):
            rows.append([str(k) if j == 0 else "", name(step["node"]) if j == 0 else "",
                         up if j == 0 else "", f"-> {name(e['source'])}",
                         _short(e["local"]) if e["local"] is not None else "(VJP)",
                         _short(e["downstream"])])
    out += ["Backward pass", _table(rows, ["step", "node", "upstream", "edge", "local",
                                           "downstream"]), ""]
    out += ["Output: " + _short(t["value"])]
    out += [f"d/d{k} = {_short(v)}" for k, v in t["gradients"].items()]
    out += [f"warning: {w['message']}" for w in t["warnings"]]
    return "\n".join(out)


def _parse_assignments(items: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"gradtrace: expected name=value, got {item!r}")
        try:
            values[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            raise SystemExit(f"gradtrace: the value of {name} is not a number or a JSON list: "
                             f"{text!r}") from None
    return values


def _parse_seed(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise SystemExit("gradtrace: the output gradient (--seed) is not a number or a JSON "
                         f"list: {text!r}") from None


def _parse_tangent(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise SystemExit(f"gradtrace: the tangent (direction) is not a number or a JSON list: "
                         f"{text!r}") from None


def _show_error(expr: str, err: GradtraceError) -> str:
    """The message, then the line of `expr` with the error and carets under its characters: at
    least one, so an error at the end of the input ("expected an operand") points past the text."""
    lines = [f"error ({err.type}): {err.message}"]
    start = min(err.start, len(expr))
    first = expr.rfind("\n", 0, start) + 1
    last = expr.find("\n", start)
    last = len(expr) if last < 0 else last
    line = "".join(c if c.isprintable() else " " for c in expr[first:last])  # one column each
    if len(line) <= 200:
        width = max(1, min(err.end, last) - start)
        lines += ["  " + line, "  " + " " * (start - first) + "^" * width]
    return "\n".join(lines)


def cmd_trace(args: argparse.Namespace) -> int:
    values = _parse_assignments(args.values)
    seed = _parse_seed(args.seed)
    try:
        t = trace(args.expr, values, seed, mode=args.mode, wrt=args.wrt,
                  tangent=_parse_tangent(args.tangent))
    except GradtraceError as err:
        if args.json:
            print(json.dumps({"error": err.to_dict()}))
        else:
            print(_show_error(args.expr, err), file=sys.stderr)
        return 2
    print(json.dumps(t) if args.json else format_trace(t))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    values = _parse_assignments(args.values)
    seed = _parse_seed(args.seed)
    out = Path(args.output)
    name = (args.format or out.suffix.lstrip(".") or "svg").lower()
    if name not in ("svg", "png", "pdf"):
        raise SystemExit(f"gradtrace: unknown picture format {name!r}: use .svg, .png or .pdf")
    fmt = cast(Format, name)
    settings = get_settings()
    try:
        t = trace(args.expr, values, seed, settings, mode=args.mode, wrt=args.wrt,
                  tangent=_parse_tangent(args.tangent))
        assert t.analysis is not None
        layout = compute_layout(t.analysis.graph, settings,
                                args.dir or choose_direction(t.analysis.graph, 16 / 9))
        if not args.all_steps:
            out.write_bytes(convert(render_svg(t, layout, args.step, args.theme), fmt,
                                    args.scale, settings.max_picture_pixels,
                                    settings.picture_timeout_s))
            print(out)
            return 0
        out.mkdir(parents=True, exist_ok=True)
        total = len(t["forward"]) + len(t["backward"])  # forward mode: forward steps only
        for i in range(total):
            view = step_view(t, i)
            spec = f"{view.phase[0]}{view.k}"
            path = out / f"step-{i + 1:03d}-{view.phase}-{view.k}.{fmt}"
            path.write_bytes(convert(render_svg(t, layout, spec, args.theme), fmt, args.scale,
                                     settings.max_picture_pixels, settings.picture_timeout_s))
        print(f"{total} pictures in {out}/")
        return 0
    except GradtraceError as err:
        print(_show_error(args.expr, err), file=sys.stderr)
        return 2


def cmd_serve(args: argparse.Namespace) -> int:
    import gc

    import uvicorn

    settings = get_settings()
    # Everything alive now lives as long as the server: keep it out of the garbage collector's
    # full passes, which otherwise took a fifth of a 1,000-node trace's time.
    gc.collect()
    gc.freeze()
    _raise_open_files(settings.max_connections + 256)
    # No `limit_concurrency`: uvicorn's counts sockets (idle ones too) and answers plain text.
    # Work is bounded by the lanes, bodies by the middleware, connections by the protocol.
    from .api.protocol import GuardedH11Protocol

    uvicorn.run("gradtrace.api.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, server_header=False, log_level=args.log_level,
                http=GuardedH11Protocol, timeout_keep_alive=int(settings.idle_timeout_s))
    return 0


def _raise_open_files(wanted: int) -> None:
    """Each connection is a file descriptor; the usual soft limit (1,024) is below the bound on
    connections, and past it new connections fail before the protocol can shed idle ones."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gradtrace", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("trace", help="print the forward values and backward steps")
    t.add_argument("expr", help='the expression, e.g. "(x + y) * z"')
    t.add_argument("values", nargs="*", help="input values: x=-2 W=[[1,2],[3,4]]")
    t.add_argument("--seed", help="output gradient (JSON), defaults to ones")
    t.add_argument("--json", action="store_true", help="print the API's JSON instead")
    t.add_argument("--mode", choices=["reverse", "forward"], default="reverse",
                   help="forward: the derivative along one input (--wrt), left to right")
    t.add_argument("--wrt", help="the input to differentiate by, in forward mode")
    t.add_argument("--tangent", help="forward mode's direction for --wrt (JSON), default ones")
    t.set_defaults(func=cmd_trace)
    r = sub.add_parser("render", help="draw the graph at a step as SVG, PNG or PDF")
    r.add_argument("expr")
    r.add_argument("values", nargs="*", help="input values: x=-2 W=[[1,2],[3,4]]")
    r.add_argument("-o", "--output", required=True,
                   help="the file (format from its suffix), or a folder with --all-steps")
    r.add_argument("--step", default="end",
                   help="f<k>, b<k> (reverse mode), start or end (default)")
    r.add_argument("--all-steps", action="store_true", help="one file per step into a folder")
    r.add_argument("--format", choices=["svg", "png", "pdf"], help="with --all-steps")
    r.add_argument("--theme", default="light", choices=["light", "dark", "projector"])
    r.add_argument("--scale", type=float, default=1.0, help="PNG/PDF scale factor")
    r.add_argument("--dir", choices=["down", "right"], default=None,
                   help="draw the graph top to bottom or left to right (default: the one that "
                   "fits a 16:9 slide)")
    r.add_argument("--seed", help="output gradient (JSON)")
    r.add_argument("--mode", choices=["reverse", "forward"], default="reverse",
                   help="forward: draw the tangents along one input (--wrt), forward steps only")
    r.add_argument("--wrt", help="the input to differentiate by, in forward mode")
    r.add_argument("--tangent", help="forward mode's direction for --wrt (JSON), default ones")
    r.set_defaults(func=cmd_render)
    s = sub.add_parser("serve", help="run the web app")
    s.add_argument("--host", default=get_settings().host)
    s.add_argument("--port", type=int, default=get_settings().port)
    s.add_argument("--workers", type=int, default=1, help="server processes")
    s.add_argument("--log-level", default="info")
    s.set_defaults(func=cmd_serve)
    return p


def _options_first(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """Put a command's options first and its positionals after a '--', so that an expression may
    start with '-' (`gradtrace trace "-x^2" x=3`, which argparse would take for an unknown
    option) and options may come after the values (`x=1 --json`, which argparse refuses once the
    `values` list has been taken)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    command = subs[0].choices.get(argv[0]) if subs and argv and "--" not in argv else None
    if command is None:
        return argv
    takes_value = {s: a.nargs != 0 for a in command._actions for s in a.option_strings}
    options: list[str] = []
    positionals: list[str] = []
    i = 1
    while i < len(argv):
        name = argv[i].split("=", 1)[0]
        known = [s for s in takes_value if s == name] or [
            s for s in takes_value if name.startswith("--") and s.startswith(name)]
        if len(known) == 1:  # an option, or an unambiguous abbreviation of one
            options.append(argv[i])
            if takes_value[known[0]] and "=" not in argv[i] and i + 1 < len(argv):
                i += 1
                options.append(argv[i])
        else:
            positionals.append(argv[i])
        i += 1
    return [argv[0], *options, "--", *positionals] if positionals else argv


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_options_first(parser, list(sys.argv[1:] if argv is None
                                                             else argv)))
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

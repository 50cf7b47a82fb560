"""Fair under load (issue 11): does a cheap request stay fast while others send the costliest ones?

    python bench/fairness.py                  # starts its own server; about 15 minutes in all
    python bench/fairness.py --quick          # smoke run: short phases, 1 to 3 minutes
    python bench/fairness.py --url http://127.0.0.1:8000 --seconds 60 --clients 20

Against a real server (started on a free loopback port unless --url), treated as a black box over
HTTP. The limits are read from gradtrace.settings.Settings() at run time (never written here) and
every costly request is sized from them; before the timed phases each costly kind is sent once at
its estimated maximum and, when the server refuses it (4xx, or a 200 whose check/hessian holds an
error), shrunk (8% at a time, then a bisection) to the largest size it accepts: the bench always
sends the real maximum of the server it runs against (with --url, whose settings may differ,
it also looks above the sizes read from Settings()).

Two probes run through every phase, each on its own connection: a small trace,
POST /api/trace {"expr": "(x+y)*z"} with new random values each time (never a cache hit), one after
the other with 50 ms pauses, and GET /api/health about every 100 ms.

- idle, before and after the load: the probes alone (the baseline);
- phase A: `--clients` costly clients (their kinds in rotation: check, hessian, trace, picture,
  standalone, code), each on its own connection, send their costliest request in a loop for
  `--seconds`; every request differs (a random constant in the expression, random values; a new
  structure for the kinds that lay out), so neither the trace cache nor the layout cache helps.
  A costly client pauses 250 ms after an answer other than 200 (it ignores Retry-After, but does
  not spin on the cores the server needs), then sends the same request again after a 503/429;
- phase B: 100 idle TCP connections (nothing sent) and 100 slow-header ones (a request line, then
  one header byte every 2 s, never the blank line) held ~20 s; then 2,000 connections opened at
  once, each sending GET /api/health;
- phase C: 1,000 POST /api/layout of distinct graphs near max_nodes (4 at a time); the server's
  RSS (the process and all its children) is sampled throughout.

It prints figures and PASS/FAIL beside the targets (probe p99 < 250 ms, health p99 < 100 ms under
load) and always exits 0: a benchmark, not a test; CI does not run it.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import math
import os
import random
import resource
import statistics
import string
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import contextlib

from _server import running_server

try:
    from gradtrace.settings import Settings
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
    from gradtrace.settings import Settings

try:
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover
    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

PROBE_TIMEOUT = 30.0
COSTLY_TIMEOUT = 120.0
TARGET_PROBE_P99_MS = 250.0
TARGET_HEALTH_P99_MS = 100.0
# Every costly expression holds this constant once; each request replaces it by another of the
# same length, so the request differs from all others (no trace cache hit) at no cost here.
PLACEHOLDER = "0.7777777"
PLACEHOLDER_B = PLACEHOLDER.encode()
JSON_HEADERS = {"content-type": "application/json"}
REFUSED_PAUSE_S = 0.25
KINDS = ("check", "hessian", "trace", "picture", "standalone", "code")


def pct(data: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not data:
        return float("nan")
    s = sorted(data)
    return s[max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))]


def fmt_counts(c: Counter[Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(c.items(), key=lambda kv: str(kv[0]))) or "-"


def verdict(value: float, target: float) -> str:
    return "PASS" if value < target else "FAIL"


# ---------------------------------------------------------------------------------------------
# Expressions


_LETTERS = [c for c in string.ascii_letters if c != "e"]  # e is the constant
_FUNCS = ("tanh", "sin", "exp", "sigmoid")


def short_name(i: int) -> str:
    """a, b, ..., Z, then a0 ... Z9, then a00 ...: short names keep big graphs inside
    max_expr_chars, and none is a function, a constant or a URL parameter of the view."""
    n = len(_LETTERS)
    if i < n:
        return _LETTERS[i]
    i -= n
    if i < n * 10:
        return f"{_LETTERS[i // 10]}{i % 10}"
    i -= n * 10
    return f"{_LETTERS[i // 100 % n]}{i % 100:02d}" + ("" if i < n * 100 else f"_{i // (n * 100)}")


def scalar_program(rng: random.Random, n_inputs: int, target_nodes: int) -> tuple[str, list[str]]:
    """Lines of named intermediates, `k=tanh(j+tanh(i)*c+j*g+...)`, over `n_inputs` scalar inputs,
    of `target_nodes` graph nodes (inputs, ops and the constant PLACEHOLDER), every input used and
    every line feeding the next, so all of it reaches the output. Values in [-1, 1] stay bounded
    (each line is squashed by tanh). Each rng gives another structure."""
    names = (short_name(i) for i in range(10**7))
    inputs = [next(names) for _ in range(n_inputs)]
    todo = inputs[::-1]
    nodes = n_inputs + 2  # the inputs, the constant and its product
    lines: list[str] = []
    hs: list[str] = []
    first = f"{inputs[0]}*{PLACEHOLDER}"
    while True:
        parts = [hs[-1] if hs else first]
        while len(parts) < 10 and (nodes < target_nodes - 4 or todo):
            a = todo.pop() if todo else rng.choice(inputs)
            b = rng.choice(hs[-6:]) if hs and rng.random() < 0.7 else rng.choice(inputs)
            if rng.random() < 0.25:
                parts.append(f"{rng.choice(_FUNCS)}({b})*{a}")
                nodes += 3
            else:
                parts.append(f"{b}*{a}")
                nodes += 2
        h = next(names)
        lines.append(f"{h}=tanh({'+'.join(parts)})")
        nodes += 1
        hs.append(h)
        if not (nodes < target_nodes - 4 or todo):
            return "\n".join(lines), inputs


def scalar_values(rng: random.Random, inputs: list[str]) -> dict[str, float]:
    return {x: round(rng.uniform(-1.0, 1.0), 6) for x in inputs}


MLP_EXPR = f"h = relu(X @ W1 + b1); out = h @ W2; L = mean((out - Y)^2) * {PLACEHOLDER}"
MLP_WIDTH = 256


def mlp_body(seed: int, batch: int) -> bytes:
    """POST /api/trace of a 2-layer MLP on batch x 256 inputs with 256 x 256 weights, values as
    nested lists (as the browser sends them)."""
    g = np.random.default_rng(seed)
    d = MLP_WIDTH
    values = {
        "X": g.standard_normal((batch, d)).tolist(),
        "W1": (g.standard_normal((d, d)) * math.sqrt(2.0 / d)).tolist(),
        "b1": (g.standard_normal(d) * 0.1).tolist(),
        "W2": (g.standard_normal((d, d)) * math.sqrt(1.0 / d)).tolist(),
        "Y": g.standard_normal((batch, d)).tolist(),
    }
    return dumps({"expr": MLP_EXPR, "values": values})


def query(expr: str, values: dict[str, Any], **extra: str) -> str:
    """The page's query: expr, one parameter per input (a JSON value), then the view's."""
    items = [("expr", expr), *((k, json.dumps(v)) for k, v in values.items()), *extra.items()]
    return urllib.parse.urlencode(items, quote_via=urllib.parse.quote)


# ---------------------------------------------------------------------------------------------
# Costly kinds: sized to the limits, with a pool of prepared requests


@dataclass
class Req:
    method: str
    url: str  # path and query, holding PLACEHOLDER unless `body` does
    body: bytes | None = None


@dataclass
class Kind:
    name: str
    summary: str = "not calibrated"
    pool: list[Req] = field(default_factory=list)
    distinct: bool = False  # each request wants a new structure (a layout cache miss)
    marker: bytes | None = None  # in a 200's body: the extra could not be made
    stream: bool = False  # read and drop the body in chunks (tens of MB)
    png_scale: float | None = None
    idle_s: float = 0.0
    used: int = 0
    reused: int = 0

    def next(self, rng: random.Random) -> tuple[str, Req]:
        """(label, request) with a fresh constant."""
        i = self.used
        self.used += 1
        if self.distinct and i >= len(self.pool):
            self.reused += 1
        base = self.pool[i % len(self.pool)]
        label = self.name
        if self.name == "picture":  # the two formats in turn, the PNG at its largest scale
            fmt = "svg" if i % 2 == 0 else "png"
            url = base.url.replace("/api/picture.?", f"/api/picture.{fmt}?", 1)
            if fmt == "png":
                url += f"&scale={self.png_scale:g}"
            base = Req(base.method, url, base.body)
            label = f"picture.{fmt}"
        return label, fresh(base, rng)


def fresh(req: Req, rng: random.Random) -> Req:
    """The request with another constant in place of PLACEHOLDER: a request never sent before."""
    const = f"{rng.uniform(0.1, 0.9):.7f}"
    if req.body is not None:
        return Req(req.method, req.url, req.body.replace(PLACEHOLDER_B, const.encode(), 1))
    return Req(req.method, req.url.replace(PLACEHOLDER, const, 1))


async def send(http: httpx.AsyncClient, req: Req, stream: bool = False,
               timeout: float = COSTLY_TIMEOUT) -> tuple[int | str, float, bytes]:
    """(status or error name, milliseconds to the whole answer, body; empty when streamed)."""
    t0 = time.perf_counter()
    headers = JSON_HEADERS if req.body is not None else None
    try:
        if stream:
            async with http.stream(req.method, req.url, content=req.body, headers=headers,
                                   timeout=timeout) as r:
                async for _ in r.aiter_raw(1 << 20):
                    pass
                return r.status_code, (time.perf_counter() - t0) * 1000, b""
        r = await http.request(req.method, req.url, content=req.body, headers=headers,
                               timeout=timeout)
        return r.status_code, (time.perf_counter() - t0) * 1000, r.content
    except httpx.TimeoutException:
        return "timeout", (time.perf_counter() - t0) * 1000, b""
    except httpx.HTTPError as e:
        return type(e).__name__, (time.perf_counter() - t0) * 1000, b""


def refusal(status: int | str, data: bytes, marker: bytes | None) -> str | None:
    """Why an answer is not an accepted costliest request, or None."""
    if status != 200:
        try:
            msg = json.loads(data)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            msg = data[:160].decode("utf-8", "replace")
        return f"{status}: {msg}"
    if marker is not None and marker in data:
        extra = marker.split(b'"')[1].decode()
        try:
            return f"200 but {extra} unavailable: {json.loads(data)[extra]['error']['message']}"
        except (ValueError, KeyError, TypeError):
            return f"200 but {extra} unavailable"
    return None


Attempt = tuple[str, float]  # ("ok" | "big": refused for its size | "fail": anything else, s)


class Calibrator:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, tol: float,
                 grow: bool) -> None:
        self.http = http
        self.s = settings
        self.tol = tol
        self.grow = grow  # also look above the size read from Settings (--url: another server)
        self.rng = random.Random(99)

    async def attempt(self, what: str, req: Req, marker: bytes | None = None,
                      stream: bool = False) -> Attempt:
        for retry in (False, True):
            status, ms, data = await send(self.http, fresh(req, self.rng), stream=stream)
            why = refusal(status, data, marker)
            print(f"    {what}: {'accepted' if why is None else 'REFUSED ' + why[:220]} "
                  f"({ms / 1000:.2f} s)", flush=True)
            if why is None:
                return "ok", ms / 1000
            if (isinstance(status, int) and 400 <= status < 500) or status == 200:
                return "big", ms / 1000
            if not retry:
                await asyncio.sleep(1.0)
        return "fail", ms / 1000

    async def largest(self, lo: int, hi: int, ok: Callable[[int], Awaitable[Attempt]],
                      cap: int | None = None) -> tuple[int | None, float]:
        """The largest size in [lo, hi] that `ok` accepts, and the seconds that attempt took:
        hi first, then 8% less each time until one is accepted (refusals are quick, accepted
        costly requests are not), then a bisection between the two down to `tol` of the size. With
        `grow`, an accepted hi is doubled up to `cap` while accepted, then bisected. A refusal
        that is not about the size (5xx twice, no answer) gives up: None."""
        verdict, secs = await ok(hi)
        if verdict == "fail":
            return None, 0.0
        good: int | None = None
        good_s = 0.0
        bad = hi
        if verdict == "ok":
            good, good_s = hi, secs
            if not (self.grow and cap is not None and cap > hi):
                return hi, secs
            while good < cap:
                size = min(cap, good * 2)
                verdict, secs = await ok(size)
                if verdict == "fail":
                    return good, good_s
                if verdict != "ok":
                    bad = size
                    break
                good, good_s = size, secs
            else:
                return good, good_s
        size = hi
        while good is None and size > lo:
            size = max(lo, min(size - 1, int(size * 0.92)))
            verdict, secs = await ok(size)
            if verdict == "fail":
                return None, 0.0
            if verdict == "ok":
                good, good_s = size, secs
            else:
                bad = size
        if good is None:
            return None, 0.0
        while bad - good > max(1, int(self.tol * good)):
            mid = (good + bad) // 2
            verdict, secs = await ok(mid)
            if verdict == "fail":
                break
            if verdict == "ok":
                good, good_s = mid, secs
            else:
                bad = mid
        return good, good_s


async def calibrate(cal: Calibrator, clients: dict[str, int], seconds: float,
                    seed: int) -> dict[str, Kind]:
    s = cal.s
    rng = random.Random(seed)
    kinds: dict[str, Kind] = {}

    # check: many scalar inputs over ~0.8 max_nodes; 2 forward passes per input number, each of
    # (nodes + numbers) = 2 x nodes for scalars: passes x work just under both check limits.
    nodes = int(s.max_nodes * 0.8)
    n_hi = min(s.max_check_evaluations // 2, s.max_check_work // (4 * nodes))
    n_hi = max(2, n_hi)  # the estimate; if it is refused, the search finds the edge below
    print(f"  check: ~{nodes} nodes, up to {n_hi} inputs (max_check_work "
          f"{s.max_check_work:,}, max_check_evaluations {s.max_check_evaluations:,})")
    structs: dict[int, tuple[str, list[str]]] = {}

    def check_req(n: int, r: random.Random) -> Req:
        if n not in structs:
            structs[n] = scalar_program(random.Random(seed + n), n, nodes)
        expr, inputs = structs[n]
        return Req("POST", "/api/trace", dumps({"expr": expr, "values": scalar_values(r, inputs),
                                                "check": True}))

    async def check_ok(n: int) -> Attempt:
        return await cal.attempt(f"{n} inputs", check_req(n, rng), b'"check":{"error"')

    n, secs = await cal.largest(1, n_hi, check_ok, cap=16 * n_hi)
    k = Kind("check", marker=b'"check":{"error"', idle_s=secs)
    if n is not None:
        expr, _ = structs[n]
        k.pool = [check_req(n, random.Random(seed * 7 + i)) for i in range(32)]
        k.summary = (f"{n} scalar inputs over {nodes} nodes ({len(expr):,} chars): {2 * n} "
                     f"passes, work ~{4 * n * nodes:,}; {secs:.2f} s idle")
    kinds["check"] = k

    # hessian: max_hessian_elements scalar inputs over the largest graph accepted (the gradient
    # graph the Hessian differentiates must itself fit max_nodes).
    n_in = s.max_hessian_elements
    print(f"  hessian: {n_in} inputs (max_hessian_elements), up to {s.max_nodes} nodes")
    hstructs: dict[int, tuple[str, list[str]]] = {}

    def hessian_req(g: int, r: random.Random) -> Req:
        if g not in hstructs:
            hstructs[g] = scalar_program(random.Random(seed + 1000 + g), n_in, g)
        expr, inputs = hstructs[g]
        return Req("POST", "/api/trace", dumps({"expr": expr, "values": scalar_values(r, inputs),
                                                "hessian": True}))

    async def hessian_ok(g: int) -> Attempt:
        return await cal.attempt(f"{g} nodes", hessian_req(g, rng), b'"hessian":{"error"')

    g, secs = await cal.largest(n_in + 8, s.max_nodes, hessian_ok)
    k = Kind("hessian", marker=b'"hessian":{"error"', idle_s=secs)
    if g is not None:
        k.pool = [hessian_req(g, random.Random(seed * 11 + i)) for i in range(32)]
        k.summary = (f"{n_in} scalar inputs over {g} nodes "
                     f"({len(hstructs[g][0]):,} chars); {secs:.2f} s idle")
    kinds["hessian"] = k

    # big trace: batch x 256 inputs, 256 x 256 weights, near max_total_elements numbers.
    d = MLP_WIDTH
    b_hi = max(1, min((s.max_total_elements - 2 * d * d) // (6 * d),
                      s.max_tensor_elements // d, s.max_op_macs // (d * d)))
    print(f"  trace: MLP batch x {d} -> {d} -> {d}, batch up to {b_hi} "
          f"(max_total_elements {s.max_total_elements:,})")

    async def mlp_ok(b: int) -> Attempt:
        return await cal.attempt(f"batch {b}", Req("POST", "/api/trace", mlp_body(seed, b)),
                                 stream=False)

    b, secs = await cal.largest(1, b_hi, mlp_ok, cap=4 * b_hi)
    k = Kind("trace", stream=True, idle_s=secs)
    if b is not None:
        k.pool = [Req("POST", "/api/trace", mlp_body(seed + i, b)) for i in range(3)]
        k.summary = (f"MLP {b}x{d} @ {d}x{d} @ {d}x{d}, values as nested lists "
                     f"({len(k.pool[0].body or b'') / 1e6:.1f} MB body); {secs:.2f} s idle")
    kinds["trace"] = k

    # picture: the graph size whose cold picture is slowest (dot runs up to dot_max_work and
    # is the costly part), from a ladder of fractions of dot_max_work; PNG at the largest scale
    # the picture limits accept.
    n_pic = 6
    ladder = sorted({max(20, int(s.dot_max_work * f)) for f in (0.05, 0.075, 0.1, 0.15, 0.2,
                                                                0.3)})
    print(f"  picture: the slowest cold SVG among {ladder} nodes (dot_max_work "
          f"{s.dot_max_work:,}), then the largest PNG scale (max_picture_pixels "
          f"{s.max_picture_pixels:,})")
    best_nodes, best_s = ladder[0], -1.0
    for nn in ladder:
        expr, inputs = scalar_program(random.Random(rng.random()), n_pic, nn)
        q = query(expr, {x: 1 for x in inputs}, step="b3", theme="light")
        verdict, secs = await cal.attempt(f"{nn} nodes, svg", Req("GET", f"/api/picture.svg?{q}"))
        if verdict == "ok" and secs > best_s:
            best_nodes, best_s = nn, secs
    expr, inputs = scalar_program(random.Random(rng.random()), n_pic, best_nodes)
    q = query(expr, {x: 1 for x in inputs}, step="b3", theme="light")
    status, _, data = await send(cal.http, Req("GET", f"/api/picture.svg?{q}"))
    scale_hi = 800
    if status == 200:
        head = data[:400].decode("utf-8", "replace")
        try:
            w = float(head.split('width="', 1)[1].split('"', 1)[0])
            h = float(head.split('height="', 1)[1].split('"', 1)[0])
            # a margin for the picture's padding, so the first try is just under
            scale_hi = min(800, int(98 * math.sqrt(s.max_picture_pixels / (w * h))))
            print(f"    svg of the scale test: {w:.0f} x {h:.0f}")
        except (IndexError, ValueError):
            pass

    async def png_ok(c: int) -> Attempt:
        return await cal.attempt(f"{best_nodes} nodes, png scale {c / 100:g}",
                                 Req("GET", f"/api/picture.png?{q}&scale={c / 100:g}"))

    c, png_s = await cal.largest(10, max(10, scale_hi), png_ok, cap=800)
    k = Kind("picture", distinct=True, idle_s=max(best_s, 0.05))
    k.png_scale = 0.9 * (c or 10) / 100  # other structures are a little larger or smaller
    count = pool_size(clients.get("picture", 0), seconds, k.idle_s)
    for i in range(count):
        expr, inputs = scalar_program(random.Random(seed * 13 + i), n_pic, best_nodes)
        k.pool.append(Req("GET", "/api/picture.?" + query(expr, {x: 1 for x in inputs},
                                                          step="b3", theme="light")))
    k.summary = (f"{best_nodes}-node scalar graphs, a new structure each, step b3; SVG and PNG "
                 f"in turn, PNG at scale {k.png_scale:.2f} (largest accepted {(c or 0) / 100:g}, "
                 f"less 10%); {best_s:.2f} s idle (SVG), {png_s:.2f} s (PNG)")
    kinds["picture"] = k

    # standalone and code: the largest graph accepted in a URL.
    lens: dict[int, int] = {}
    for name, path, extra in (("standalone", "/api/standalone.html",
                               {"step": "b3", "theme": "light"}),
                              ("code", "/api/code", {"lang": "numpy"})):
        print(f"  {name}: up to {s.max_nodes} nodes (max_nodes), max_expr_chars "
              f"{s.max_expr_chars:,}, in the URL")
        lens.clear()

        def url_req(g: int, seed_: float, path: str = path,
                    extra: dict[str, str] = extra) -> Req:
            expr, inputs = scalar_program(random.Random(seed_), n_pic, g)
            lens[g] = len(expr)
            return Req("GET", f"{path}?" + query(expr, scalar_values(rng, inputs), **extra))

        async def url_ok(g: int, url_req: Callable[[int, float], Req] = url_req) -> \
                Attempt:
            return await cal.attempt(f"{g} nodes", url_req(g, rng.random()))

        g, secs = await cal.largest(n_pic + 8, s.max_nodes, url_ok)
        k = Kind(name, distinct=(name == "standalone"), idle_s=max(secs, 0.02))
        if g is not None:
            g = int(g * 0.98) if g > 100 else g  # other structures are a little longer
            count = pool_size(clients.get(name, 0), seconds, k.idle_s) if k.distinct else 16
            k.pool = [url_req(g, seed * 17 + i) for i in range(count)]
            each = ", a new structure each" if k.distinct else ""
            k.summary = (f"{g}-node scalar graphs ({lens[g]:,} chars, URL "
                         f"{len(k.pool[0].url):,} chars){each}; {secs:.2f} s idle")
        kinds[name] = k
    return kinds


def pool_size(clients: int, seconds: float, idle_s: float) -> int:
    """Enough distinct structures for `clients` at the idle speed for `seconds` (capped)."""
    return max(4, min(4000, math.ceil(clients * seconds / max(idle_s, 0.02) * 1.2) + clients))


# ---------------------------------------------------------------------------------------------
# The server's processes: RSS and CPU from /proc


def listener_pid(port: int) -> int | None:
    """The process listening on loopback `port` (the uvicorn master), from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{parts[9]}]")
        except OSError:
            continue
    holders: list[int] = []
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        try:
            if os.readlink(fd) in inodes:
                holders.append(int(fd.split("/")[2]))
        except OSError:
            continue
    holders = sorted(set(holders))
    for pid in holders:  # the one whose parent does not hold it too
        if ppid(pid) not in holders:
            return pid
    return holders[0] if holders else None


def ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def tree(pid: int) -> list[int]:
    out, i = [pid], 0
    while i < len(out):
        for path in glob.glob(f"/proc/{out[i]}/task/*/children"):
            try:
                with open(path) as f:
                    out.extend(int(c) for c in f.read().split())
            except OSError:
                pass
        i += 1
    return out


def status_field(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_rss_mb(pid: int | None) -> float | None:
    if pid is None or not os.path.exists(f"/proc/{pid}"):
        return None
    return sum(status_field(p, "VmRSS") for p in tree(pid)) / 1024


def tree_cpu_s(pid: int | None) -> float | None:
    """CPU seconds of the server and its children (live ones, and exited ones it waited for)."""
    if pid is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            if p == pid:
                total += int(fields[13]) + int(fields[14])  # cutime, cstime
        except (OSError, ValueError, IndexError):
            continue
    return total / tick


def self_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---------------------------------------------------------------------------------------------
# Probes


@dataclass
class Recorder:
    phase: str = "setup"
    trace: list[tuple[str, float, int | str]] = field(default_factory=list)
    health: list[tuple[str, float, int | str]] = field(default_factory=list)
    rss: list[tuple[str, float]] = field(default_factory=list)


async def probe_trace(base: str, rec: Recorder, stop: asyncio.Event) -> None:
    rng = random.Random(12345)
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1)) as http:
        while not stop.is_set():
            values = {k: round(rng.uniform(-5.0, 5.0), 9) for k in "xyz"}
            req = Req("POST", "/api/trace", dumps({"expr": "(x+y)*z", "values": values}))
            phase = rec.phase
            status, ms, _ = await send(http, req, timeout=PROBE_TIMEOUT)
            rec.trace.append((phase, ms, status))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)


async def probe_health(base: str, rec: Recorder, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1)) as http:
        while not stop.is_set():
            phase = rec.phase
            t0 = time.perf_counter()
            status, ms, _ = await send(http, Req("GET", "/api/health"), timeout=PROBE_TIMEOUT)
            rec.health.append((phase, ms, status))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, 0.1 - (time.perf_counter() - t0)))


async def sample_rss(pid: int | None, rec: Recorder, stop: asyncio.Event) -> None:
    while not stop.is_set():
        rss = tree_rss_mb(pid)
        if rss is not None:
            rec.rss.append((rec.phase, rss))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def latency_row(label: str, rows: list[tuple[str, float, int | str]]) -> str:
    ms = [r[1] for r in rows]
    c = Counter(r[2] for r in rows)
    if not ms:
        return f"  {label:<28} {0:>6}"
    return (f"  {label:<28} {len(ms):>6} {pct(ms, .5):>8.1f} {pct(ms, .95):>8.1f} "
            f"{pct(ms, .99):>8.1f} {max(ms):>8.1f}   {fmt_counts(c)}")


LAT_HEADER = (f"  {'phase':<28} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8}   statuses")


def by_phase(rows: list[tuple[str, float, int | str]], *phases: str) -> list[tuple[str, float,
                                                                                      int | str]]:
    return [r for r in rows if r[0] in phases]


# ---------------------------------------------------------------------------------------------
# Phase A


async def costly_client(base: str, kind: Kind, seed: int, deadline: float,
                        out: dict[str, list[tuple[float, int | str]]]) -> None:
    """Sends its kind's costliest request in a loop. After an answer other than 200 it pauses
    REFUSED_PAUSE_S (it ignores Retry-After, but does not spin on the cores the server needs);
    after a 503 or 429 it sends the same request again (that work was not done)."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(
            max_connections=1, max_keepalive_connections=1)) as http:
        status: int | str = 200
        while time.monotonic() < deadline:
            if status not in (503, 429):
                label, req = kind.next(rng)
            status, ms, data = await send(http, req, stream=kind.stream)
            shown = status
            if status == 200 and kind.marker is not None and kind.marker in data:
                shown = "200 unavailable"
            out[label].append((ms, shown))
            if shown != 200:
                await asyncio.sleep(REFUSED_PAUSE_S)


async def phase_a(base: str, kinds: dict[str, Kind], assignment: list[str], seconds: float,
                  rec: Recorder) -> tuple[dict[str, list[tuple[float, int | str]]], float, float]:
    out: dict[str, list[tuple[float, int | str]]] = defaultdict(list)
    deadline = time.monotonic() + seconds
    tasks = [asyncio.create_task(costly_client(base, kinds[k], 1000 + i, deadline, out))
             for i, k in enumerate(assignment)]
    await asyncio.sleep(seconds)
    rec.phase = "A drain"
    t0 = time.monotonic()
    done, pending = await asyncio.wait(tasks, timeout=COSTLY_TIMEOUT)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for t in done:
        if t.exception() is not None:
            print(f"  a costly client failed: {t.exception()!r}")
    return out, time.monotonic() - t0, seconds


# ---------------------------------------------------------------------------------------------
# Phase B: held connections and a burst of them


@dataclass
class Held:
    kind: str
    closed_after: float | None = None  # seconds, when the server closed it
    got: bytes = b""
    error: str = ""


async def hold(host: str, port: int, kind: str, seconds: float) -> Held:
    h = Held(kind)
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as e:
        h.error = f"connect: {type(e).__name__}"
        return h

    async def watch() -> None:
        try:
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                h.got += chunk[: max(0, 300 - len(h.got))]
        except OSError as e:
            h.error = type(e).__name__
        h.closed_after = time.monotonic() - t0

    watcher = asyncio.create_task(watch())
    header = b"X-Slow-Header: " + b"a" * 1000
    sent = 0
    try:
        if kind == "slow-header":
            writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        while time.monotonic() - t0 < seconds and not watcher.done():
            if kind == "slow-header":
                writer.write(header[sent:sent + 1])
                sent += 1
                await writer.drain()
            await asyncio.wait([watcher], timeout=min(2.0, seconds - (time.monotonic() - t0)))
    except OSError as e:
        h.error = h.error or f"write: {type(e).__name__}"
        if h.closed_after is None:
            h.closed_after = time.monotonic() - t0
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return h


@dataclass
class Burst:
    status: int | str = "?"
    ms: float = 0.0
    content_type: str = ""
    retry_after: str | None = None
    json_ok: bool = False


async def one_request(host: str, port: int, start: asyncio.Event, timeout: float) -> Burst:
    b = Burst()
    await start.wait()
    t0 = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
            await writer.drain()
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")
            b.status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:] if line)}
            n = headers.get("content-length")
            body = await (reader.readexactly(int(n)) if n is not None else reader.read())
            b.content_type = headers.get("content-type", "")
            b.retry_after = headers.get("retry-after")
            try:
                json.loads(body)
                b.json_ok = b.content_type.startswith("application/json")
            except ValueError:
                pass
    except TimeoutError:
        b.status = "timeout"
    except asyncio.IncompleteReadError:
        b.status = "closed early"
    except OSError as e:
        b.status = type(e).__name__
    except (ValueError, IndexError):
        b.status = "bad answer"
    b.ms = (time.perf_counter() - t0) * 1000
    if writer is not None:
        writer.close()
    return b


async def phase_b(base: str, rec: Recorder, hold_s: float, burst: int) -> None:
    u = urllib.parse.urlsplit(base)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    print(f"\nPhase B: 100 idle + 100 slow-header connections held {hold_s:.0f} s, then "
          f"{burst:,} connections at once", flush=True)
    rec.phase = "B held conns"
    held = await asyncio.gather(*(hold(host, port, "idle" if i < 100 else "slow-header", hold_s)
                                  for i in range(200)))
    rec.phase = "B burst"
    start = asyncio.Event()
    tasks = [asyncio.create_task(one_request(host, port, start, 60.0)) for _ in range(burst)]
    await asyncio.sleep(0.2)
    t0 = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks)
    burst_s = time.perf_counter() - t0
    rec.phase = "B after"
    await asyncio.sleep(2.0)

    print("  probes while the 200 connections were held:")
    print(LAT_HEADER)
    print(latency_row("trace probe", by_phase(rec.trace, "B held conns")))
    print(latency_row("health probe", by_phase(rec.health, "B held conns")))
    for kind in ("idle", "slow-header"):
        hs = [h for h in held if h.kind == kind]
        closed = [h for h in hs if h.closed_after is not None]
        errors = Counter(h.error for h in hs if h.error)
        line = f"  {kind:<12} connections: {len(closed)}/{len(hs)} closed by the server"
        if closed:
            t = [h.closed_after or 0.0 for h in closed]
            line += f" after {min(t):.1f} to {max(t):.1f} s (median {statistics.median(t):.1f} s)"
        print(line + (f"; errors: {fmt_counts(errors)}" if errors else ""))
        firsts = Counter(h.got.split(b"\r\n", 1)[0].decode("latin-1") or "(nothing)"
                         for h in closed)
        if closed:
            print(f"      the server sent before closing: {fmt_counts(firsts)}")
    statuses = Counter(r.status for r in results)
    non200 = [r for r in results if r.status != 200]
    answered = [r for r in non200 if isinstance(r.status, int)]
    ms = [r.ms for r in results]
    print(f"  burst of {burst:,} GET /api/health at once: all done in {burst_s:.1f} s; "
          f"latency p50 {pct(ms, .5):.0f} ms, p99 {pct(ms, .99):.0f} ms, max {max(ms):.0f} ms")
    print(f"      statuses: {fmt_counts(statuses)}")
    if non200:
        jr = sum(1 for r in answered if r.json_ok and r.retry_after is not None)
        print(f"      non-200 answers: {len(non200)} ({len(non200) - len(answered)} without any "
              f"HTTP answer); JSON with Retry-After: {jr}/{len(answered)}; JSON: "
              f"{sum(r.json_ok for r in answered)}; Retry-After: "
              f"{sum(r.retry_after is not None for r in answered)}; content types: "
              f"{fmt_counts(Counter(r.content_type or '(none)' for r in answered))}")
        print(f"      every non-200 answer JSON with Retry-After: "
              f"{'yes' if jr == len(non200) else 'NO'}")
    else:
        print("      non-200 answers: none")
    print("  probes during the burst and the 2 s after it:")
    print(LAT_HEADER)
    for ph in ("B burst", "B after"):
        print(latency_row(f"trace probe, {ph}", by_phase(rec.trace, ph)))
        print(latency_row(f"health probe, {ph}", by_phase(rec.health, ph)))


# ---------------------------------------------------------------------------------------------
# Phase C: layouts of distinct maximal graphs


async def phase_c(base: str, cal: Calibrator, rec: Recorder, count: int, seed: int) -> None:
    s = cal.s
    print(f"\nPhase C: {count:,} POST /api/layout of distinct graphs near max_nodes "
          f"({s.max_nodes:,}), 4 at a time", flush=True)
    n_in = 6

    def layout_req(g: int, i: int) -> Req:
        expr, inputs = scalar_program(random.Random(seed * 19 + i), n_in, g)
        return Req("POST", "/api/layout", dumps({"expr": expr, "values": {x: 1 for x in inputs}}))

    async def ok(g: int) -> Attempt:
        return await cal.attempt(f"{g} nodes", layout_req(g, -g))

    g, secs = await cal.largest(n_in + 8, s.max_nodes, ok)
    if g is None:
        print("  no layout accepted: phase C skipped")
        return
    g = int(g * 0.98) if g > 100 else g
    reqs = [layout_req(g, i) for i in range(count)]
    print(f"  {g}-node graphs, {secs:.2f} s each idle", flush=True)
    rec.phase = "C layouts"
    out: list[tuple[float, int | str]] = []
    jobs = enumerate(reqs)  # shared by the 4 workers
    t0 = time.perf_counter()

    bad: list[tuple[int, float, int | str]] = []  # (index, seconds into the phase, status)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base) as http:
            for i, req in jobs:
                started = time.perf_counter() - t0
                status, ms, _ = await send(http, req)
                out.append((ms, status))
                if status != 200:
                    bad.append((i, started, status))

    await asyncio.gather(*(worker() for _ in range(4)))
    el = time.perf_counter() - t0
    ms = [m for m, _ in out]
    print(f"  {len(out):,} layouts in {el:.0f} s ({len(out) / el:.1f}/s): p50 "
          f"{pct(ms, .5):.0f} ms, p99 {pct(ms, .99):.0f} ms; statuses: "
          f"{fmt_counts(Counter(st for _, st in out))}")
    if bad:
        print("  not 200 (request number, sent at s into the phase): " + ", ".join(
            f"#{i} at {t:.0f} s: {st}" for i, t, st in sorted(bad)[:12]))
    rec.phase = "C after"


# ---------------------------------------------------------------------------------------------


async def run(base: str, args: argparse.Namespace) -> None:
    settings = Settings()
    t_start = time.perf_counter()
    quick = args.quick
    seconds = args.seconds if args.seconds is not None else (10.0 if quick else 30.0)
    idle_s = 4.0 if quick else 10.0
    hold_s = 12.0 if quick else 20.0
    layouts = 40 if quick else 1000
    port = urllib.parse.urlsplit(base).port
    host = urllib.parse.urlsplit(base).hostname
    pid = listener_pid(port) if port and host in ("127.0.0.1", "localhost", "::1") else None
    rec = Recorder()
    rss_start = tree_rss_mb(pid)
    load = os.getloadavg()
    print(f"gradtrace fairness bench against {base} ({os.cpu_count()} cores, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}); server pid {pid or 'unknown'}")
    numbers = {k: v for k, v in settings.model_dump().items()
               if isinstance(v, int | float) and not isinstance(v, bool) and k != "port"}
    print("Settings() now (limits and server options): " + ", ".join(
        f"{k} {v:,}" for k, v in numbers.items()))
    if args.url:
        print("  (--url: the server's own settings may differ from these)")

    assignment = [KINDS[i % len(KINDS)] for i in range(args.clients)]
    per_kind = Counter(assignment)
    print(f"\nCalibration: each costly kind at the largest size the server accepts (idle server, "
          f"tolerance {'5' if quick else '2'}%)", flush=True)
    async with httpx.AsyncClient(base_url=base, timeout=COSTLY_TIMEOUT) as http:
        cal = Calibrator(http, settings, 0.05 if quick else 0.02, bool(args.url))
        kinds = await calibrate(cal, per_kind, seconds, args.seed)
    for name, k in kinds.items():
        print(f"  => {name:<10} x{per_kind[name]} clients: {k.summary}")
    missing = [name for name, k in kinds.items() if not k.pool]
    if missing:
        print(f"  no accepted size for {missing}: those clients are left out")
        assignment = [a for a in assignment if a not in missing]

    stop = asyncio.Event()
    probes = [asyncio.create_task(probe_trace(base, rec, stop)),
              asyncio.create_task(probe_health(base, rec, stop)),
              asyncio.create_task(sample_rss(pid, rec, stop))]
    await asyncio.sleep(2.0)  # settle after the calibration
    rss_before = tree_rss_mb(pid)

    print(f"\nIdle (before): the probes alone for {idle_s:.0f} s", flush=True)
    rec.phase = "idle before"
    await asyncio.sleep(idle_s)

    print(f"Phase A: {len(assignment)} costly clients for {seconds:.0f} s "
          f"({fmt_counts(Counter(assignment))})", flush=True)
    rec.phase = "A load"
    cpu0, scpu0, t0 = self_cpu_s(), tree_cpu_s(pid), time.perf_counter()
    costly, drain_s, _ = await phase_a(base, kinds, assignment, seconds, rec)
    wall = time.perf_counter() - t0
    cpu1, scpu1 = self_cpu_s(), tree_cpu_s(pid)
    rss_after_a = tree_rss_mb(pid)
    rec.phase = "idle after"
    print(f"Idle (after): the probes alone for {idle_s:.0f} s", flush=True)
    await asyncio.sleep(idle_s)

    print(f"\nPhase A results ({seconds:.0f} s of load, then {drain_s:.1f} s for the requests in "
          f"flight to finish)")
    print(f"  CPU over those {wall:.0f} s: this bench {cpu1 - cpu0:.1f} s "
          f"({(cpu1 - cpu0) / wall * 100:.0f}% of one core)"
          + (f", the server {scpu1 - scpu0:.1f} s ({(scpu1 - scpu0) / wall * 100:.0f}% of one core)"
             if scpu0 is not None and scpu1 is not None else ""))
    print(LAT_HEADER)
    for probe, rows in (("trace probe", rec.trace), ("health probe", rec.health)):
        for ph in ("idle before", "A load", "A drain", "idle after"):
            print(latency_row(f"{probe}, {ph}", by_phase(rows, ph)))
    print("  costly clients, per kind:")
    print(f"  {'kind':<16} {'count':>6} {'p50 ms':>9} {'max ms':>9}   statuses")
    for label in ("check", "hessian", "trace", "picture.svg", "picture.png", "standalone",
                  "code"):
        got = costly.get(label, [])
        if not got:
            continue
        ms = [m for m, _ in got]
        print(f"  {label:<16} {len(got):>6} {statistics.median(ms):>9.0f} {max(ms):>9.0f}   "
              f"{fmt_counts(Counter(st for _, st in got))}")
    reused = {k.name: k.reused for k in kinds.values() if k.reused}
    if reused:
        print(f"  structures reused (pool exhausted, layout cache may hit): {reused}")

    idle = by_phase(rec.trace, "idle before", "idle after")
    idle_b = [r[1] for r in by_phase(rec.trace, "idle before")]
    idle_a = [r[1] for r in by_phase(rec.trace, "idle after")]
    loaded = [r[1] for r in by_phase(rec.trace, "A load")]
    health = [r[1] for r in by_phase(rec.health, "A load")]
    idle_ms = [r[1] for r in idle]
    print("\nBaseline and targets (trace probe)")
    print(f"  idle before: p50 {pct(idle_b, .5):.1f} ms, p99 {pct(idle_b, .99):.1f} ms "
          f"({len(idle_b)} requests); idle after: p50 {pct(idle_a, .5):.1f} ms, p99 "
          f"{pct(idle_a, .99):.1f} ms ({len(idle_a)})")
    print(f"  loaded: p50 {pct(loaded, .5):.1f} ms, p99 {pct(loaded, .99):.1f} ms "
          f"({len(loaded)}); loaded / idle (both idle runs): p50 x"
          f"{pct(loaded, .5) / pct(idle_ms, .5):.1f}, "
          f"p99 x{pct(loaded, .99) / pct(idle_ms, .99):.1f}")
    lp99, hp99 = pct(loaded, .99), pct(health, .99)
    print(f"  probe p99 under load  {lp99:9.1f} ms   target < {TARGET_PROBE_P99_MS:.0f} ms   "
          f"{verdict(lp99, TARGET_PROBE_P99_MS)}")
    print(f"  health p99 under load {hp99:9.1f} ms   target < {TARGET_HEALTH_P99_MS:.0f} ms   "
          f"{verdict(hp99, TARGET_HEALTH_P99_MS)}")
    non_ok = sum(1 for r in by_phase(rec.trace, "A load") if r[2] != 200)
    if non_ok:
        print(f"  note: {non_ok} probe answers under load were not 200 (see statuses above)")

    if not args.skip_connections:
        await phase_b(base, rec, hold_s, 500 if quick else 2000)
    rss_after_c = None
    if not args.skip_memory:
        async with httpx.AsyncClient(base_url=base, timeout=COSTLY_TIMEOUT) as http:
            cal = Calibrator(http, settings, 0.05, False)
            await phase_c(base, cal, rec, layouts, args.seed)
        await asyncio.sleep(1.0)
        rss_after_c = tree_rss_mb(pid)
        print("  probes during phase C:")
        print(LAT_HEADER)
        print(latency_row("trace probe", by_phase(rec.trace, "C layouts")))
        print(latency_row("health probe", by_phase(rec.health, "C layouts")))
    stop.set()
    await asyncio.gather(*probes)

    report_memory(pid, rec, args, rss_start, rss_before, rss_after_a, rss_after_c)
    try:
        alive = httpx.get(f"{base}/api/health", timeout=10).status_code == 200
    except httpx.HTTPError:
        alive = False
    load = os.getloadavg()
    print(f"\nThe server answers /api/health at the end: {'yes' if alive else 'NO'}. Load "
          f"average now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; the whole run took "
          f"{(time.perf_counter() - t_start) / 60:.1f} minutes.")


def report_memory(pid: int | None, rec: Recorder, args: argparse.Namespace,
                  rss_start: float | None, rss_before: float | None,
                  rss_after_a: float | None, rss_after_c: float | None) -> None:
    print(f"\nMemory: RSS of the server and its child processes (bound {args.rss_bound_mb} MB)")
    if pid is None:
        print("  unknown: the server's process is not on this machine")
        return

    def show(label: str, v: float | None) -> None:
        if v is None:
            print(f"  {label:<34} n/a (the server is gone)")
        else:
            print(f"  {label:<34} {v:8.0f} MB   {verdict(v, args.rss_bound_mb)}")

    show("at start", rss_start)
    show("before the load (after calibration)", rss_before)
    show("after phase A", rss_after_a)
    if not args.skip_memory:
        show("after phase C", rss_after_c)
    peaks: dict[str, float] = {}
    for ph, v in rec.rss:
        peaks[ph] = max(peaks.get(ph, 0.0), v)
    print("  peak per phase (sampled every 0.5 s): " + ", ".join(
        f"{ph} {v:.0f} MB" for ph, v in peaks.items()))
    peak = max(peaks.values(), default=0.0)
    print(f"  peak overall {peak:.0f} MB   {verdict(peak, args.rss_bound_mb)}")
    if not os.path.exists(f"/proc/{pid}"):
        print("  THE SERVER PROCESS IS GONE")
    else:
        procs = tree(pid)
        print(f"  now: {len(procs)} process(es) in the server's tree, "
              f"{sum(status_field(p, 'Threads') for p in procs)} threads")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", help="a running server; default: start one on a free port")
    p.add_argument("--seconds", type=float, help="length of phase A (default 30; --quick 10)")
    p.add_argument("--clients", type=int, default=20, help="costly clients in phase A")
    p.add_argument("--quick", action="store_true", help="short phases: a smoke run")
    p.add_argument("--skip-memory", action="store_true", help="no phase C")
    p.add_argument("--skip-connections", action="store_true", help="no phase B")
    p.add_argument("--rss-bound-mb", type=float, default=1500.0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as scripts/start.sh serves
    log = None
    if args.url is None:
        # The server started here inherits our stderr: send it to a file (uvicorn logs a line
        # per connection refused, thousands in phase B) and summarise it at the end.
        log = tempfile.TemporaryFile()  # noqa: SIM115 (closed at exit)
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        sys.stderr = open(saved, "w", buffering=1)  # noqa: SIM115 (ours for the whole run)
    try:
        with running_server(args.url) as base:
            asyncio.run(run(base, args))
    finally:
        if log is not None:
            sys.stderr.flush()
            os.dup2(sys.stderr.fileno(), 2)
            summarise_log(log)


def summarise_log(log: IO[bytes]) -> None:
    log.seek(0)
    lines = log.read().decode("utf-8", "replace").splitlines()
    print(f"\nThe server's log (stderr at --log-level warning): {len(lines):,} lines")
    for line, n in Counter(line.strip() for line in lines if line.strip()).most_common(6):
        print(f"  {n:>6} x {line[:150]}")
    tracebacks = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    if tracebacks:
        print(f"  {len(tracebacks)} tracebacks; the first:")
        for line in lines[tracebacks[0]:tracebacks[0] + 40]:
            print(f"    {line}")


if __name__ == "__main__":
    main()

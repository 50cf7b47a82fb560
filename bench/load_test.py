"""Load test: N concurrent clients against a real uvicorn on loopback for a fixed time.

    python bench/load_test.py                 # starts its own server: 50 clients, 30 s
    python bench/load_test.py --url http://127.0.0.1:8000 --clients 50 --seconds 30

Each client loops, drawing a request kind at random the way the browser app makes them:
- new:    a new expression (as when typing): POST /api/layout, then POST /api/trace
- values: the same expression with other values (a slider): POST /api/trace only
- picture: a picture of a step (GET /api/picture.svg) when the server has that route, else a
          layout of an expression seen before (a cached layout)
It prints requests per second, p50/p95/p99 latency per kind and the error count (any status other
than 200, or a transport error). Loopback only; bounded in time and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections import defaultdict

import httpx

sys.path.insert(0, os.path.dirname(__file__))
from _server import running_server

KINDS = ("new", "values", "picture")
WEIGHTS = (0.3, 0.5, 0.2)


def random_expression(rng: random.Random, terms: int) -> str:
    """A scalar expression over x, y, z with named intermediates: a new structure each time."""
    ops = ["+", "-", "*"]
    funcs = ["tanh", "exp", "sigmoid", "relu", "sin"]
    lines = []
    prev = "x"
    for i in range(terms):
        a = rng.choice(["x", "y", "z", prev, str(rng.randint(1, 9))])
        f = rng.choice(funcs)
        lines.append(f"h{i} = {f}({prev} {rng.choice(ops)} {a})")
        prev = f"h{i}"
    lines.append(f"out = {prev} * y + z")
    return "; ".join(lines)


def pct(data: list[float], q: float) -> float:
    if not data:
        return float("nan")
    data = sorted(data)
    return data[min(len(data) - 1, int(q * len(data)))]


async def client(base: str, deadline: float, seed: int, lat: dict[str, list[float]],
                 errors: dict[str, int], has_picture: bool) -> None:
    rng = random.Random(seed)
    seen: list[str] = []
    expr = random_expression(rng, rng.randint(3, 12))
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.monotonic() < deadline:
            kind = rng.choices(KINDS, WEIGHTS)[0]
            values = {"x": rng.uniform(-2, 2), "y": rng.uniform(-2, 2), "z": rng.uniform(-2, 2)}
            t0 = time.perf_counter()
            try:
                if kind == "new":
                    expr = random_expression(rng, rng.randint(3, 12))
                    seen.append(expr)
                    r1 = await http.post("/api/layout", json={"expr": expr, "values": values})
                    r2 = await http.post("/api/trace", json={"expr": expr, "values": values})
                    ok = r1.status_code == 200 and r2.status_code == 200
                elif kind == "values":
                    r = await http.post("/api/trace", json={"expr": expr, "values": values})
                    ok = r.status_code == 200
                elif has_picture:
                    params = {"expr": expr, "step": "end", **{k: str(v) for k, v in values.items()}}
                    r = await http.get("/api/picture.svg", params=params)
                    ok = r.status_code == 200
                else:
                    old = rng.choice(seen) if seen else expr
                    r = await http.post("/api/layout", json={"expr": old})
                    ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            lat[kind].append((time.perf_counter() - t0) * 1000)
            if not ok:
                errors[kind] += 1


async def run(base: str, clients: int, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        spec = (await http.get("/openapi.json")).json()
    has_picture = any(p.startswith("/api/picture") for p in spec.get("paths", {}))
    lat: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    deadline = time.monotonic() + seconds
    t0 = time.perf_counter()
    await asyncio.gather(*(client(base, deadline, i, lat, errors, has_picture)
                           for i in range(clients)))
    elapsed = time.perf_counter() - t0
    total = sum(len(v) for v in lat.values())
    print(f"{clients} clients for {elapsed:.1f} s against {base} ({os.cpu_count()} cores)")
    print(f"picture kind: {'GET /api/picture.svg' if has_picture else 'cached POST /api/layout'}")
    print(f"{'kind':8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7}")
    for kind in KINDS:
        d = lat[kind]
        print(f"{kind:8} {len(d):>9} {len(d) / elapsed:>8.1f} {pct(d, .5):>8.1f} "
              f"{pct(d, .95):>8.1f} {pct(d, .99):>8.1f} {errors[kind]:>7}")
    all_lat = [x for v in lat.values() for x in v]
    print(f"{'all':8} {total:>9} {total / elapsed:>8.1f} {statistics.median(all_lat):>8.1f} "
          f"{pct(all_lat, .95):>8.1f} {pct(all_lat, .99):>8.1f} {sum(errors.values()):>7}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", help="a running server; default: start one on a free port")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--workers", type=int, default=1, help="server processes when starting one")
    args = p.parse_args()
    with running_server(args.url, args.workers) as base:
        asyncio.run(run(base, args.clients, args.seconds))


if __name__ == "__main__":
    main()

"""All settings in one place: limits on what one request may ask for, and server options.

Every field can be set from the environment as GRADTRACE_<FIELD> (e.g. GRADTRACE_MAX_NODES=5000).
The defaults fit a lecture: a 3-layer MLP on 64x256 inputs with 256x256 weights traces well within
them, and nothing a single request can ask for within them takes more than about a second.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRADTRACE_", frozen=True)

    # Limits on one expression and its values (each answered 4xx "limit" with a span).
    max_expr_chars: int = 10_000
    max_depth: int = 100  # nesting of parentheses, calls, unary signs and powers
    max_nodes: int = 2_500
    max_tensor_dims: int = 8
    max_tensor_elements: int = 200_000  # one input value, or one node's value
    # All node values of one trace together. The record holds each about 4 times (value, gradient,
    # downstream on edges, steps): at this cap a response is about 60 MB. A 3-layer MLP on 64x256
    # inputs with 256x256 weights holds 252,000.
    max_total_elements: int = 600_000
    max_body_bytes: int = 16 * 1024 * 1024
    # Bytes held for all requests in progress together: bodies received and answers being sent.
    # Past it, new requests get 503 + Retry-After until some finish.
    max_pending_bytes: int = 256 * 1024 * 1024
    # Values given for names: more than a page could need (each is an input the expression uses,
    # or one it ignores with a warning); unused ones are named in at most `max_unused_warnings`.
    max_value_names: int = 1_000
    max_unused_warnings: int = 20
    # Multiply-adds of one matmul or conv2d pass: about 0.1 s here. Lecture-sized work is far
    # below it (64 MNIST images, 5x5 kernels, 32 channels: 30 million).
    max_op_macs: int = 100_000_000
    # The Hessian ("hessian": true) is a matrix of (input numbers)^2 entries, one forward-mode pass
    # over the gradient graph per input number: lecture-sized, as a matrix one reads.
    max_hessian_elements: int = 64
    # ... and at most this many (columns x gradient-graph nodes): about 1 s here (a column costs
    # about 30 us per node). A 3-input lecture example's gradient graph has tens of nodes.
    max_hessian_work: int = 30_000
    # The numeric gradient check ("check": true) runs 2 forward passes per input element: at most
    # this many passes, and at most this much work in all (passes x (nodes + numbers per pass);
    # about 1 s here: 4 us a unit on scalar graphs). A 10x10 weight matrix in a small MLP is
    # about 200 passes of a few hundred units.
    max_check_evaluations: int = 2_000
    max_check_work: int = 250_000
    # The explicit Jacobian of a tensor edge, shown beside the VJP, only up to this many entries
    # (an 8x8 matrix is what a panel shows legibly).
    max_jacobian_entries: int = 64
    # Pictures: rsvg-convert cannot draw past 32,767 px a side, and its time grows with the area
    # (about 150 ns a pixel here): a 1080p slide at scale 2 is 8.3 million.
    max_picture_pixels: int = 8_500_000
    picture_timeout_s: float = 10.0

    # Graphviz layout.
    layout_timeout_s: float = 3.0  # dot is killed past this, and the layered layout is used
    # Past this estimate of dot's work (nodes + virtual nodes of long edges), the layered layout
    # is used straight away: about 1 s of dot on this machine.
    dot_max_work: int = 2_000
    layout_cache_entries: int = 512
    layout_cache_bytes: int = 64 * 1024 * 1024  # their JSON, all together
    # A stand-in layout (dot failed or ran out of time) is reused this long before dot is tried
    # again: a hung dot costs one time-out per structure and period, not one per request.
    provisional_layout_s: float = 60.0

    # Cache of trace responses by (expression, values, seed), bounded by their total size.
    trace_cache_bytes: int = 256 * 1024 * 1024  # entries up to a quarter of it

    # Bytes of any one answer (a trace's JSON, a picture, the offline file, code).
    max_response_bytes: int = 40 * 1024 * 1024

    # Server: lanes by cost (api/lanes.py). Work estimated at no more than `light_work_s` of CPU
    # in the server and `light_tool_s` in dot and rsvg-convert (cost.py), from a request of at
    # most `light_request_bytes`, runs in the light lane: threads of the server process.
    # Everything else runs in the heavy lane: worker processes at a lower CPU priority, where it
    # cannot hold the server's GIL against the light lane.
    host: str = "127.0.0.1"
    port: int = 8000
    light_work_s: float = 0.02
    light_tool_s: float = 0.25  # of dot and rsvg-convert, which hold no lock of the server's
    light_request_bytes: int = 64 * 1024
    worker_threads: int = 4  # the light lane's threads
    queue_limit: int = 64  # requests waiting for a light worker beyond this get 503 + Retry-After
    heavy_processes: int = 2  # the heavy lane's worker processes
    heavy_queue_limit: int = 8  # heavy requests waiting beyond this get 503 + Retry-After
    heavy_nice: int = 10  # their CPU priority, below the server's (0)
    # Connections (api/protocol.py, api/middleware.py): a request's headers must arrive within
    # `header_timeout_s` of the connection opening (or of its first byte, on a kept-alive one),
    # its body within `body_timeout_s`; a kept-alive connection is closed after `idle_timeout_s`
    # without a request; past `max_connections`, the ones not in a request are closed first.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    write_timeout_s: float = 30.0  # a client that reads nothing of its answer this long is dropped
    idle_timeout_s: float = 5.0
    max_connections: int = 1_000
    # The built browser app (npm run build in frontend/), served at / when present.
    frontend_dist: str = str(Path(__file__).resolve().parents[2] / "frontend" / "dist")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

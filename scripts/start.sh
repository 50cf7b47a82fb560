#!/usr/bin/env bash
# Set up (as scripts/setup.sh) and start gradtrace on http://127.0.0.1:8000 (override with
# GRADTRACE_PORT / GRADTRACE_HOST, or pass serve's options, e.g. --port 9000 --workers 2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# One BLAS thread per server process: the worker threads already use the cores, and two BLAS
# threads each made a 256x256 matmul's p90 40 times slower under load.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
exec .venv/bin/gradtrace serve --host "${GRADTRACE_HOST:-127.0.0.1}" --port "${GRADTRACE_PORT:-8000}" "$@"

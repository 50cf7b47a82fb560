#!/usr/bin/env bash
# Everything gradtrace needs on a fresh Debian machine, idempotent: Debian packages (graphviz for
# layout, librsvg for PNG/PDF pictures, chromium for the browser tests, Python and Node.js if
# missing), a virtual environment in .venv with the package and its test tools, and the built
# frontend.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need=()
command -v dot >/dev/null || need+=(graphviz)
command -v rsvg-convert >/dev/null || need+=(librsvg2-bin)
command -v chromium >/dev/null || need+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v python3 >/dev/null || need+=(python3 python3-venv python3-pip)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# PyTorch, the reference the tests compare gradients (and the generated PyTorch files) with: the
# CPU build, pinned, as this machine's pip finds it on disk. Without it those tests skip.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q torch==2.13.0 \
    || echo "setup: torch==2.13.0 could not be installed: the PyTorch comparisons will skip"
fi

if [ -f frontend/package.json ]; then
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
fi
echo "setup: done"

"""The full screenshot set (not a test): every preset at laptop, projector and phone sizes, in
every theme, at the last backward step, saved under a folder to open and look at.

    .venv/bin/python scripts/screenshots.py [--out DIR] [--only KEY,...] [--themes light,dark]
        [--sizes 1280x800,1920x1080,390x844] [--step end] [--url http://127.0.0.1:8000]

Without --url it starts the app on a free loopback port (the built frontend must be there:
`cd frontend && npm run build`)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
SIZES = ["1280x800", "1920x1080", "390x844"]
THEMES = ["light", "dark", "projector"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    exe = ROOT / ".venv" / "bin" / "gradtrace"
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/api/health", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")


def preset_query(p: dict[str, object], theme: str, step: str) -> str:
    q: dict[str, str] = {"expr": str(p["expr"])}
    for k, v in dict(p.get("values") or {}).items():  # type: ignore[call-overload]
        q[k] = json.dumps(v)
    if p.get("seed") is not None:
        q["seed"] = json.dumps(p["seed"])
    q["step"] = step
    q["theme"] = theme
    return urlencode(q)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default="screenshots")
    ap.add_argument("--only", default="")
    ap.add_argument("--themes", default=",".join(THEMES))
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--step", default="end")
    ap.add_argument("--url", default="")
    ap.add_argument("--graph-only", action="store_true", help="also hide the side panel")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    proc = None
    url = args.url
    if not url:
        proc, url = _serve()
    try:
        presets = json.loads(urllib.request.urlopen(url + "/api/presets").read())
        only = {k for k in args.only.split(",") if k}
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        chromium = os.environ.get("GRADTRACE_CHROMIUM") or shutil.which("chromium") \
            or "/usr/bin/chromium"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for size in args.sizes.split(","):
                w, h = (int(x) for x in size.split("x"))
                ctx = browser.new_context(viewport={"width": w, "height": h},
                                          reduced_motion="reduce", has_touch=w < 700,
                                          is_mobile=w < 700)
                page = ctx.new_page()
                for p in presets:
                    if only and p["key"] not in only:
                        continue
                    for theme in args.themes.split(","):
                        q = preset_query(p, theme, args.step)
                        if args.graph_only:
                            q += "&hide=side"
                        page.goto(f"{url}/?{q}")
                        page.wait_for_selector("[data-testid=graph] svg g.node",
                                               timeout=15000)
                        page.wait_for_timeout(300)
                        name = f"{p['key']}-{theme}-{size}.png"
                        page.screenshot(path=str(out / name), full_page=False)
                        print(out / name, flush=True)
                ctx.close()
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())

"""Load test of the demo: start app.py on a free loopback port, call /predict from N concurrent
gradio_client clients, print requests/s, p50/p95 latency and errors, then stop the app.

    python bench/load_app.py [--clients 50] [--requests 400] [--client gradio|http] [--app app.py]
                             [--env KEY=VALUE ...]

Loopback only; the app runs as a subprocess with its own GRADIO_TEMP_DIR (a temp folder that
is removed afterwards). Each request uploads one of a few rendered word images.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["Hello", "2025", "Station", "coffee", "Berlin", "river", "OPEN", "price", "Tuesday", "zebra"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(word: str, size: int = 32, jitter: int = 0) -> Image.Image:
    """A word in DejaVu (or Pillow's font); ``jitter`` shifts grey levels so each image differs."""
    path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    font = ImageFont.truetype(path, size) if os.path.isfile(path) else ImageFont.load_default(size)
    l, t, r, b = font.getbbox(word)
    bg = 255 - jitter % 40
    img = Image.new("RGB", (r - l + 8 + jitter % 7, b - t + 8), (bg, bg, bg))
    ImageDraw.Draw(img).text((4 - l, 4 - t), word, font=font, fill=(jitter % 50, 0, 0))
    return img


class App:
    """app.py (or another Gradio script) as a subprocess on 127.0.0.1:<free port>."""

    def __init__(self, app: str | Path = ROOT / "app.py", env: dict[str, str] | None = None,
                 port: int | None = None, temp_dir: str | None = None, args: list[str] = ()):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.temp_dir = temp_dir or tempfile.mkdtemp(prefix="ctc_gradio_tmp_")
        self._own_temp = temp_dir is None
        full_env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(self.port),
                    "GRADIO_TEMP_DIR": self.temp_dir, "GRADIO_ANALYTICS_ENABLED": "False",
                    "HF_HUB_DISABLE_TELEMETRY": "1", **(env or {})}
        self.log = tempfile.NamedTemporaryFile(prefix="ctc_app_log_", suffix=".txt", delete=False)
        self.proc = subprocess.Popen([sys.executable, str(app), *args], cwd=ROOT, env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 600.0) -> "App":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "config", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        log = self.log_text()[-3000:]
        self.stop()
        raise RuntimeError(f"app not ready after {timeout:.0f} s:\n{log}")

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._own_temp:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
        Path(self.log.name).unlink(missing_ok=True)

    def __enter__(self) -> "App":
        return self.wait_ready()

    def __exit__(self, *exc) -> None:
        self.stop()


class HttpClient:
    """Gradio's documented HTTP API (upload, call, read the event stream) on one httpx
    connection: what gradio_client does, without its polling threads (which cost the client
    ~0.1 s of CPU per request when latencies are seconds long)."""

    def __init__(self, url: str):
        import httpx

        self.url, self.http = url, httpx.Client(timeout=120)
        self.info = self.http.get(url + "gradio_api/info").json()["named_endpoints"]
        self.session_hash = uuid.uuid4().hex[:11]  # one visitor, as gradio_client (Gradio keeps state per session)

    def predict(self, path: str, api_name: str = "/predict"):
        import json

        with open(path, "rb") as fh:
            r = self.http.post(self.url + "gradio_api/upload", files={"files": (os.path.basename(path), fh)})
        r.raise_for_status()
        data = [{"path": r.json()[0], "orig_name": os.path.basename(path), "meta": {"_type": "gradio.FileData"}}]
        data += [p["parameter_default"] for p in self.info[api_name]["parameters"][1:]]  # the rest: defaults
        r = self.http.post(self.url + f"gradio_api/call{api_name}", json={"data": data, "session_hash": self.session_hash})
        r.raise_for_status()
        event = None
        with self.http.stream("GET", self.url + f"gradio_api/call{api_name}/{r.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = line.split(":", 1)[1].strip()
                    if event == "error":
                        raise RuntimeError(payload)
                    return json.loads(payload)
        raise RuntimeError("the event stream ended without a result")


def run_clients(url: str, n_clients: int, n_requests: int, make_file, api_name: str = "/predict",
                on_done=None, client: str = "gradio") -> dict:
    """``n_requests`` calls to ``api_name`` from ``n_clients`` threads (each a gradio_client
    Client, or with ``client="http"`` an :class:`HttpClient`); ``make_file(i)`` gives the i-th
    request's file path. Returns latencies (s), errors (messages) and wall time."""
    from gradio_client import Client, handle_file

    lock = threading.Lock()
    counter = iter(range(n_requests))
    latencies: list[float] = []
    errors: list[str] = []

    def worker():
        caller = HttpClient(url) if client == "http" else Client(url, verbose=False)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            path = make_file(i)
            t0 = time.perf_counter()
            try:
                if client == "http":
                    caller.predict(path, api_name=api_name)
                else:
                    caller.predict(handle_file(path), api_name=api_name)
                ok, msg = True, None
            except Exception as exc:  # noqa: BLE001 - counted and shown, the load goes on
                ok, msg = False, f"{type(exc).__name__}: {exc}"
            dt = time.perf_counter() - t0
            with lock:
                (latencies.append(dt) if ok else errors.append(msg))
                if on_done is not None:
                    on_done(i, dt, ok)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors, "wall": time.perf_counter() - t0}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (from /proc; 0 where there is none)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def summary(result: dict) -> str:
    lat = np.asarray(result["latencies"]) if result["latencies"] else np.asarray([np.nan])
    n = len(result["latencies"]) + len(result["errors"])
    return (f"requests {n}  ok {len(result['latencies'])}  errors {len(result['errors'])}  "
            f"wall {result['wall']:.1f} s  {len(result['latencies']) / result['wall']:.1f} requests/s  "
            f"p50 {np.percentile(lat, 50) * 1000:.0f} ms  p95 {np.percentile(lat, 95) * 1000:.0f} ms")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=20, help="requests before timing (not counted)")
    ap.add_argument("--app", default=str(ROOT / "app.py"))
    ap.add_argument("--client", choices=["gradio", "http"], default="gradio",
                    help="gradio_client threads, or the plain HTTP API (lighter: measures the server)")
    ap.add_argument("--env", nargs="*", default=[], help="KEY=VALUE for the app's environment")
    args = ap.parse_args(argv)
    env = dict(kv.split("=", 1) for kv in args.env)
    files = tempfile.mkdtemp(prefix="ctc_load_words_")
    try:
        paths = []
        for i, w in enumerate(WORDS):
            p = os.path.join(files, f"{i:02d}_{w}.png")
            render(w, jitter=i).save(p)
            paths.append(p)
        with App(args.app, env) as app:
            print(f"app {args.app} on {app.url}; {args.clients} {args.client} clients, {args.requests} requests",
                  flush=True)
            if args.warmup:
                run_clients(app.url, min(args.clients, 4), args.warmup, lambda i: paths[i % len(paths)],
                            client=args.client)
            server0, client0 = cpu_seconds(app.proc.pid), time.process_time()
            result = run_clients(app.url, args.clients, args.requests, lambda i: paths[i % len(paths)],
                                 client=args.client)
            server, client = cpu_seconds(app.proc.pid) - server0, time.process_time() - client0
            print(summary(result), flush=True)
            print(f"CPU per request: server {server / args.requests * 1000:.1f} ms, clients "
                  f"{client / args.requests * 1000:.1f} ms (the machine's load average: "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)", flush=True)
            for msg in sorted(set(result["errors"]))[:5]:
                print("  error:", msg[:300])
    finally:
        shutil.rmtree(files, ignore_errors=True)


if __name__ == "__main__":
    main()

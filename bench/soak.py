"""Soak test of the demo: start app.py on a free loopback port, send a bounded number of
requests (each a distinct image) from several clients, and print at intervals the server's
memory (RSS), the size of its upload folder, its open file descriptors, throughput and
p50/p95 latency. Stops by itself.

    python bench/soak.py [--requests 20000] [--clients 8] [--interval 1000] [--client gradio|http] [--app app.py]
                         [--env KEY=VALUE ...] [--tracemalloc OUT.txt] [--ort-arena-off]

``--app bench/trivial_app.py`` soaks a constant-answer Gradio app with app.py's queue, limits and
upload sweeping under the same load: growth both show is Gradio's, growth only app.py shows is ours.

``--ort-arena-off`` serves the app with ONNX Runtime's CPU memory arena off in every session it
opens (``SessionOptions.enable_cpu_mem_arena = False``), to see whether the arena is what grows.

``--tracemalloc OUT.txt`` runs the app under tracemalloc and writes, at each interval, the
allocation sites that grew most since the first interval (to find where RSS growth comes from).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_app import WORDS, App, render, run_clients  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, MB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.is_file():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def dir_size(path: str) -> tuple[float, int]:
    """(MB, files) under ``path``."""
    size = files = 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                size += os.path.getsize(os.path.join(root, n))
                files += 1
            except OSError:
                pass
    return size / 1e6, files


def serve_traced(app: str, out: str, every: float) -> None:
    """Run ``app``; once it answers, trace allocations (tracemalloc, so imports are not traced:
    that made start-up take minutes) and every ``every`` s write the sites that grew most since
    the first snapshot."""
    import runpy
    import tracemalloc
    import urllib.request

    def dump():
        url = f"http://127.0.0.1:{os.environ.get('GRADIO_SERVER_PORT', '7860')}/config"
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(1)
        tracemalloc.start(10)
        first = None
        while True:
            time.sleep(every)
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            if first is None:
                first = snap
                continue
            with open(out, "a", encoding="utf-8") as fh:
                fh.write(f"=== {time.strftime('%H:%M:%S')} traced {tracemalloc.get_traced_memory()[0] / 1e6:.1f} MB\n")
                for st in snap.compare_to(first, "traceback")[:8]:
                    fh.write(f"{st.size_diff / 1e6:+.2f} MB {st.count_diff:+d} blocks\n")
                    fh.write("".join("    " + ln + "\n" for ln in st.traceback.format()[-10:]))

    threading.Thread(target=dump, daemon=True).start()
    sys.argv = [app]
    runpy.run_path(app, run_name="__main__")


def serve_without_arena(app: str) -> None:
    """Run ``app`` with every ONNX Runtime session opened with the CPU memory arena off."""
    import runpy

    import onnxruntime as ort

    real = ort.InferenceSession

    def session(path, sess_options=None, **kwargs):
        sess_options = sess_options or ort.SessionOptions()
        sess_options.enable_cpu_mem_arena = False
        return real(path, sess_options=sess_options, **kwargs)

    ort.InferenceSession = session
    sys.argv = [app]
    runpy.run_path(app, run_name="__main__")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--interval", type=int, default=1000, help="print a line every this many requests")
    ap.add_argument("--app", default=str(ROOT / "app.py"))
    ap.add_argument("--client", choices=["gradio", "http"], default="gradio",
                    help="gradio_client threads, or the plain HTTP API (lighter)")
    ap.add_argument("--env", nargs="*", default=[], help="KEY=VALUE for the app's environment")
    ap.add_argument("--tracemalloc", metavar="OUT", help="run the app under tracemalloc, growth report to OUT")
    ap.add_argument("--trace-every", type=float, default=60.0, help="seconds between tracemalloc reports")
    ap.add_argument("--ort-arena-off", action="store_true",
                    help="serve the app with ONNX Runtime's CPU memory arena off (enable_cpu_mem_arena=False)")
    ap.add_argument("--serve-traced", nargs=2, metavar=("APP", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--serve-without-arena", metavar="APP", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_traced:
        return serve_traced(*args.serve_traced, args.trace_every)
    if args.serve_without_arena:
        return serve_without_arena(args.serve_without_arena)
    if args.tracemalloc and args.ort_arena_off:
        ap.error("--tracemalloc and --ort-arena-off cannot be combined")

    env = dict(kv.split("=", 1) for kv in args.env)
    app_script, app_args = args.app, []
    if args.tracemalloc:  # this script serves the app under tracemalloc
        app_script, app_args = __file__, ["--serve-traced", os.path.abspath(args.app),
                                          os.path.abspath(args.tracemalloc), "--trace-every", str(args.trace_every)]
    if args.ort_arena_off:
        app_script, app_args = __file__, ["--serve-without-arena", os.path.abspath(args.app)]
    work = tempfile.mkdtemp(prefix="ctc_soak_words_")
    rng_lock = threading.Lock()

    def make_file(i: int) -> str:
        # a distinct image per request: word, size, grey levels and a few noise pixels vary with i
        img = np.asarray(render(WORDS[i % len(WORDS)], size=24 + i % 17, jitter=i)).copy()
        with rng_lock:
            rng = np.random.default_rng(i)
        ys, xs = rng.integers(0, img.shape[0], 12), rng.integers(0, img.shape[1], 12)
        img[ys, xs] = rng.integers(0, 256, (12, 3))
        path = os.path.join(work, f"{i:06d}.png")
        from PIL import Image
        Image.fromarray(img).save(path)
        return path

    state = {"t": time.perf_counter(), "lat": [], "ok": 0, "err": 0, "done": 0}
    lock = threading.Lock()

    def on_done(i: int, dt: float, ok: bool) -> None:
        Path(work, f"{i:06d}.png").unlink(missing_ok=True)
        with lock:
            state["done"] += 1
            state["ok" if ok else "err"] += 1
            if ok:
                state["lat"].append(dt)
            if state["done"] % args.interval == 0 or state["done"] == args.requests:
                now = time.perf_counter()
                lat = np.asarray(state["lat"] or [np.nan]) * 1000
                up_mb, up_files = dir_size(app.temp_dir)
                print(f"{state['done']:>7d} req  rss {rss_mb(app.proc.pid):7.1f} MB  uploads {up_mb:7.1f} MB "
                      f"{up_files:6d} files  fds {open_fds(app.proc.pid):4d}  "
                      f"{len(state['lat']) / (now - state['t']):6.1f} req/s  p50 {np.percentile(lat, 50):6.0f} ms  "
                      f"p95 {np.percentile(lat, 95):6.0f} ms  errors {state['err']}", flush=True)
                state.update(t=now, lat=[])

    try:
        with App(app_script, env, args=app_args) as app:
            print(f"soak: {args.app}{' (ORT arena off)' if args.ort_arena_off else ''} on {app.url}, "
                  f"{args.requests} requests from {args.clients} clients; "
                  f"uploads in {app.temp_dir}; start rss {rss_mb(app.proc.pid):.1f} MB", flush=True)
            t0 = time.perf_counter()
            result = run_clients(app.url, args.clients, args.requests, make_file, on_done=on_done,
                                 client=args.client)
            print(f"done: {len(result['latencies'])} ok, {len(result['errors'])} errors in "
                  f"{time.perf_counter() - t0:.0f} s; final rss {rss_mb(app.proc.pid):.1f} MB", flush=True)
            for msg in sorted(set(result["errors"]))[:5]:
                print("  error:", msg[:300])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

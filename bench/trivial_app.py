"""A trivial Gradio app for soak comparisons: a File input on /predict answering a constant,
with app.py's queue, launch limits and upload cleaning, but no model and no image reading.
What it grows under the same load as app.py is Gradio's (and the upload path's), not ours.

    python bench/soak.py --app bench/trivial_app.py --client http --clients 8 --requests 10000 \
        --env CTC_DEMO_DELETE_CACHE=60,120

Reads CTC_DEMO_DELETE_CACHE ("frequency,age" seconds or "off" [300,900]) like app.py.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import gradio as gr

# app.py's defaults (Settings): queue 256, max_batch 32, sessions 500, 10 MB files
QUEUE_SIZE, MAX_BATCH, SESSIONS, MAX_FILE_MB = 256, 32, 500, 10


def delete_cache_setting() -> tuple[int, int] | None:
    raw = os.environ.get("CTC_DEMO_DELETE_CACHE", "300,900").strip().lower()
    if raw in ("off", "0", "none"):
        return None
    try:
        frequency, age = (int(v) for v in raw.split(","))
    except ValueError:
        raise SystemExit(f"CTC_DEMO_DELETE_CACHE={raw!r}: expected 'frequency,age' in seconds or 'off'") from None
    return frequency, age


def sweep_uploads(demo: gr.Blocks, age: float) -> None:
    """The same cleaning as app.sweep_uploads (copied: importing app.py would load our library):
    uploads older than ``age`` s, the empty tmp* files uploads leave, the emptied folders."""
    now, folder = time.time(), Path(gr.utils.get_upload_folder())
    old = lambda p: now - p.lstat().st_ctime > age  # noqa: E731
    for files in list(demo.temp_file_sets):
        for f in list(files):
            with contextlib.suppress(OSError):
                if old(Path(f)):
                    os.remove(f)
            if not os.path.exists(f):
                files.discard(f)
    for p in folder.iterdir() if folder.is_dir() else ():
        with contextlib.suppress(OSError):
            if p.name.startswith("tmp") and p.is_file() and p.stat().st_size == 0 and old(p):
                p.unlink()
            elif p.is_dir() and old(p) and not any(p.iterdir()):
                p.rmdir()


def predict(image_file) -> tuple[str, float]:
    return "hello", 1.0


def build_demo() -> gr.Blocks:
    delete_cache = delete_cache_setting()
    with gr.Blocks(title="trivial", delete_cache=delete_cache) as demo:
        api_file = gr.File(label="Image file", file_types=["image"])
        text, conf = gr.Textbox(label="Text"), gr.Number(None, label="Confidence")
        gr.Button("Predict").click(predict, api_file, [text, conf], api_name="predict",
                                   concurrency_limit=2 * MAX_BATCH)
    demo.queue(default_concurrency_limit=4, max_size=QUEUE_SIZE)
    if delete_cache:
        def sweeper(frequency: int, age: int) -> None:
            while not time.sleep(frequency):
                with contextlib.suppress(Exception):
                    sweep_uploads(demo, age)

        threading.Thread(target=sweeper, args=delete_cache, daemon=True).start()
    return demo


if __name__ == "__main__":
    build_demo().launch(max_file_size=MAX_FILE_MB * 1024 * 1024, max_threads=4 * MAX_BATCH + 16,
                        state_session_capacity=SESSIONS, show_error=True)

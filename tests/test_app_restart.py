"""Restart safety: a demo killed (SIGKILL) while requests are in flight leaves no half-written
file and starts again on the same port."""

import csv
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import ROOT, render_word

pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from load_app import App  # noqa: E402


def test_killed_mid_request_leaves_no_half_written_file_and_restarts(tmp_path):
    word = tmp_path / "Hello.png"
    Image.fromarray(render_word("Hello", size=36)).save(word)
    temp_dir = tmp_path / "gradio"
    temp_dir.mkdir()
    csv_dir = temp_dir / "ctc_demo_csv"
    first = App(temp_dir=str(temp_dir)).wait_ready()
    stop, done, errors = threading.Event(), [], []

    def batches():
        client = Client(first.url, verbose=False)
        while not stop.is_set():
            try:
                client.predict([handle_file(str(word))] * 20, "default (bundled)", api_name="/batch")
                done.append(1)
            except Exception as exc:  # noqa: BLE001 - the server is killed under it
                errors.append(exc)
                return

    threads = [threading.Thread(target=batches, daemon=True) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while not done and time.monotonic() < deadline:  # requests are flowing...
            time.sleep(0.05)
        assert done, "no batch finished before the kill"
        os.kill(first.proc.pid, signal.SIGKILL)  # ...and the server dies in the middle of some
        first.proc.wait(30)
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        first.stop()
    for path in csv_dir.glob("*.csv"):  # every CSV under its final name is whole
        rows = list(csv.reader(path.open(encoding="utf-8")))
        assert rows[0] == ["file", "text", "confidence"] and len(rows) == 21 and rows[-1][1] == "Hello", path
    second = App(port=first.port, temp_dir=str(temp_dir)).wait_ready()
    try:
        client = Client(second.url, verbose=False)
        assert client.predict(handle_file(str(word)), api_name="/predict")[0] == "Hello"
        table, out = client.predict([handle_file(str(word))] * 2, "default (bundled)", api_name="/batch")
        assert Path(out).read_text(encoding="utf-8").count(",Hello,") == 2
    finally:
        second.stop()

"""The Gradio demo, started for real on a free local port and called with gradio_client."""

import csv
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ctc_recognizer.recognizer import DEFAULT_MODEL_DIR
from tests.conftest import render_lines, render_word

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

DEFAULT = "default (bundled)"
UNKNOWN_HUB_ID = "ctc-recognizer-tests/no-such-model-3f9a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launched(settings):
    import app

    demo = app.build_demo(settings)
    port = free_port()
    app.launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo, Client(f"http://127.0.0.1:{port}/", verbose=False)


@pytest.fixture(scope="module")
def served():
    import app

    demo, client = launched(app.Settings(models=(UNKNOWN_HUB_ID,), hub_timeout=3, max_file_mb=1,
                                         max_batch_files=3))
    try:
        yield demo, client
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(served):
    return served[1]


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    d = tmp_path_factory.mktemp("words")
    out = {}
    for w in ("Hello", "2025", "Station"):
        p = d / f"{w}.png"
        Image.fromarray(render_word(w, size=36)).save(p)
        out[w] = str(p)
    return out


def analyze(client, path, decoder="greedy", beam=10, lexicon="", model=DEFAULT):
    return client.predict(handle_file(path), decoder, beam, lexicon, model, api_name="/analyze")


def assert_no_server_details(message: str):
    assert "/tmp" not in message and "gradio" not in message.lower() and " at 0x" not in message, message


def test_bundled_model_exists():
    assert (DEFAULT_MODEL_DIR / "config.json").is_file() and (DEFAULT_MODEL_DIR / "model.onnx").is_file()


def test_predict_api_reads_words(client, words):
    for word, path in words.items():
        text, conf = client.predict(handle_file(path), api_name="/predict")
        assert text == word
        assert 0.5 < conf <= 1.0


def test_analyze_returns_text_numeric_confidences_drawings_and_hint(client, words):
    text, conf, chars, boxes, chart, hint = analyze(client, words["Hello"])
    assert text == "Hello" and 0.5 < conf <= 1
    assert "".join(c["token"] for c in chars) == "Hello"
    assert all(isinstance(c["class_or_confidence"], float) and 0 < c["class_or_confidence"] <= 1 for c in chars)
    assert np.asarray(Image.open(boxes)).shape[0] > 100 and Image.open(chart).size[0] > 100
    assert hint == ""


def test_analyze_shows_the_librarys_warning_as_a_hint(client, tmp_path):
    import app

    class Pred:
        warning = "This looks like several lines of text; crop a single word or line."

    assert app._hint(Pred()) == "⚠️ " + Pred.warning
    lines = render_lines(["first line", "second one"], size=36)
    path = tmp_path / "two_lines.png"
    Image.fromarray(lines).save(path)
    from ctc_recognizer import Recognizer

    warning = Recognizer.from_pretrained()(str(path)).warning
    hint = analyze(client, str(path))[-1]
    assert warning and hint == f"⚠️ {warning}"


def test_lexicon_and_beam(client, words):
    text, *_ = analyze(client, words["Station"], "beam", 8, "Station, Nation")
    assert text == "Station"


def test_batch_tab_table_and_csv(client, words):
    table, csv_path = client.predict([handle_file(p) for p in words.values()], DEFAULT, api_name="/batch")
    rows = table["data"] if isinstance(table, dict) else table
    assert sorted(r[1] for r in rows) == sorted(words)
    assert open(csv_path, encoding="utf-8").readline().strip() == "file,text,confidence"


def test_batch_csv_is_written_whole_or_not_at_all(monkeypatch):
    import app

    before = set(app.CSV_DIR.glob("*.csv")) if app.CSV_DIR.is_dir() else set()
    rows = [["a.png", "text", 0.9]] * 1000

    real_writer = csv.writer

    def broken_writer(fh):
        writer = real_writer(fh)

        class Half:
            def writerow(self, row):
                writer.writerow(row)

            def writerows(self, rows):
                writer.writerows(rows[:10])
                raise OSError("disk full")
        return Half()

    monkeypatch.setattr(app.csv, "writer", broken_writer)
    with pytest.raises(OSError):
        app.write_csv(rows)
    assert set(app.CSV_DIR.glob("*.csv")) == before and not list(app.CSV_DIR.glob(".*.tmp"))
    monkeypatch.undo()
    out = Path(app.write_csv(rows))
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1001


@pytest.mark.parametrize("content, message", [
    (b"this is not an image", "'fake.png' is not a readable image"),
    (b"", "'fake.png' is empty"),
])
def test_bad_files_get_readable_errors_in_every_tab(client, tmp_path, content, message):
    bad = tmp_path / "fake.png"
    bad.write_bytes(content)
    for call in (lambda: client.predict(handle_file(str(bad)), api_name="/predict"),
                 lambda: analyze(client, str(bad))):
        with pytest.raises(Exception, match=message) as err:
            call()
        assert_no_server_details(str(err.value))
    table, _ = client.predict([handle_file(str(bad))], DEFAULT, api_name="/batch")
    rows = table["data"] if isinstance(table, dict) else table
    assert rows[0][0] == "fake.png" and message.split("' ")[1] in rows[0][1]
    assert_no_server_details(rows[0][1])


def test_huge_image_is_refused_in_every_tab_and_app_keeps_serving(client, tmp_path, words):
    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 20000)).save(huge)
    for call in (lambda: client.predict(handle_file(str(huge)), api_name="/predict"),
                 lambda: analyze(client, str(huge))):
        with pytest.raises(Exception, match="'huge.png' is 400 MP, more than the 50 MP limit") as err:
            call()
        assert_no_server_details(str(err.value))
    assert client.predict(handle_file(words["2025"]), api_name="/predict")[0] == "2025"


@pytest.mark.parametrize("model", ["./no/such/model", "/etc", str(DEFAULT_MODEL_DIR), "other/hub-model"])
def test_models_outside_the_choice_are_refused_by_the_server(client, words, model):
    with pytest.raises(Exception, match="is not offered by this demo|is not in the list of choices") as err:
        client.predict(handle_file(words["Hello"]), model, api_name="/predict")
    assert "exist" not in str(err.value) and "folder" not in str(err.value)
    with pytest.raises(Exception, match="is not offered by this demo") as err:  # no Dropdown check here
        analyze(client, words["Hello"], model=model)
    assert "exist" not in str(err.value) and "folder" not in str(err.value)


def test_local_folders_only_when_the_operator_allows_them(words, tmp_path):
    import app

    settings = app.Settings(allow_local=True)
    assert app.load_model(str(DEFAULT_MODEL_DIR), settings).vocab
    with pytest.raises(app.gr.Error, match="not offered"):
        app.load_model(str(DEFAULT_MODEL_DIR), app.Settings())


def test_unknown_hub_id_fails_fast_with_a_true_message(client, words, monkeypatch):
    t0 = time.monotonic()
    with pytest.raises(Exception, match="no such public model|could not be reached") as err:
        client.predict(handle_file(words["Hello"]), UNKNOWN_HUB_ID, api_name="/predict")
    assert time.monotonic() - t0 < 15  # the Hub download alone retries for ~25 s on a dead network
    assert "HF_HUB_OFFLINE" not in str(err.value)


def test_upload_size_limit(client, tmp_path):
    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (800, 800, 3), dtype=np.uint8)).save(big)
    assert big.stat().st_size > 1024 * 1024
    with pytest.raises(Exception, match="File size exceeded|too large|maximum"):
        client.predict(handle_file(str(big)), api_name="/predict")


def test_batch_file_count_limit(client, words):
    with pytest.raises(Exception, match="4 files: at most 3 can be read at once"):
        client.predict([handle_file(p) for p in [*words.values(), words["Hello"]]], DEFAULT, api_name="/batch")


def test_upload_cache_is_cleaned(words):
    import app

    demo, client = launched(app.Settings(delete_cache=(1, 1)))
    try:
        def cached():
            return {Path(f) for s in demo.temp_file_sets for f in s}

        before = cached()  # the examples, which Gradio keeps
        client.predict(handle_file(words["Hello"]), api_name="/predict")
        uploaded = cached() - before
        assert uploaded and all(f.exists() for f in uploaded)
        deadline = time.monotonic() + 20
        while any(f.exists() for f in uploaded) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not any(f.exists() for f in uploaded)
        # what Gradio's own cleaning leaves: an empty tmp* file per upload, and emptied folders
        folder = Path(app.gr.utils.get_upload_folder())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (any(f.parent.exists() for f in uploaded) or any(
                p.stat().st_size == 0 and time.time() - p.stat().st_ctime > 3 for p in folder.glob("tmp*"))):
            time.sleep(0.5)
        assert not any(f.parent.exists() for f in uploaded)
        assert not [p for p in folder.glob("tmp*") if p.stat().st_size == 0 and time.time() - p.stat().st_ctime > 3]
    finally:
        demo.close()


def test_api_snippet_names_the_address_the_page_came_from():
    import app

    assert "Client('http://example.org:8123/')" in app.api_snippet_for(app.gr.Request(headers={"host": "example.org:8123"}))
    assert "https://me-demo.hf.space/" in app.api_snippet_for(app.gr.Request(
        headers={"host": "10.0.0.1:7860", "x-forwarded-host": "me-demo.hf.space", "x-forwarded-proto": "https"}))


def test_concurrent_reads_share_one_model_call():
    import app
    from ctc_recognizer import Recognizer

    class Counting:
        def __init__(self):
            self.rec, self.sizes = Recognizer.from_pretrained(), []

        def __call__(self, images, **kw):
            self.sizes.append(len(images) if isinstance(images, list) else 1)
            return self.rec(images, **kw)

    rec, batcher = Counting(), app.Batcher(16, wait_s=0.2)
    images = [render_word(w, size=36) for w in ("Hello", "2025", "Station")] * 4
    images[5] = np.zeros((1, 1, 3), np.uint8)  # an unreadable one: its error is its own
    barrier = threading.Barrier(len(images))

    def read(img):
        barrier.wait()
        try:
            return batcher(rec, img).text
        except ValueError as exc:
            return f"error: {exc}"

    with ThreadPoolExecutor(len(images)) as pool:
        texts = list(pool.map(read, images))
    assert texts[5].startswith("error:")
    assert [t for i, t in enumerate(texts) if i != 5] == [w for i, w in enumerate(["Hello", "2025", "Station"] * 4)
                                                         if i != 5]
    assert max(rec.sizes) > 1


def test_twenty_concurrent_clients(client, words):
    url = client.src
    jobs = [list(words.items())[i % 3] for i in range(20)]
    barrier = threading.Barrier(20)

    def call(job):
        word, path = job
        c = Client(url, verbose=False)
        barrier.wait()
        return word, c.predict(handle_file(path), api_name="/predict")[0]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(call, jobs))
    assert all(want == got for want, got in results)


def test_settings_from_env_reads_every_variable_and_names_a_bad_one():
    import app

    assert app.Settings.from_env({}) == app.Settings()
    env = {"CTC_DEMO_MODELS": "org/a, org/b", "CTC_DEMO_ALLOW_LOCAL": "yes", "CTC_DEMO_HUB_TIMEOUT": "2.5",
           "CTC_DEMO_MAX_FILE_MB": "0.5", "CTC_DEMO_MAX_BATCH_FILES": "7", "CTC_DEMO_DELETE_CACHE": "60,120",
           "CTC_DEMO_MAX_BATCH": "4", "CTC_DEMO_QUEUE_SIZE": "9", "CTC_DEMO_SESSIONS": "11"}
    assert app.Settings.from_env(env) == app.Settings(
        models=("org/a", "org/b"), allow_local=True, hub_timeout=2.5, max_file_mb=0.5, max_batch_files=7,
        delete_cache=(60, 120), max_batch=4, queue_size=9, sessions=11)
    assert app.Settings.from_env({"CTC_DEMO_DELETE_CACHE": "off"}).delete_cache is None
    for name, raw in [("CTC_DEMO_MAX_BATCH", "2.5"), ("CTC_DEMO_QUEUE_SIZE", "0"), ("CTC_DEMO_HUB_TIMEOUT", "nan"),
                      ("CTC_DEMO_SESSIONS", "many"), ("CTC_DEMO_DELETE_CACHE", "60")]:
        with pytest.raises(SystemExit, match=f"{name}={raw!r}: expected"):
            app.Settings.from_env({name: raw})


def _soak(*args):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, str(root / "bench" / "soak.py"), "--client", "http", "--clients", "2",
                          "--requests", "16", "--interval", "8", *args], cwd=root, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_soak_runs_the_trivial_app_and_prints_each_interval():
    out = _soak("--app", "bench/trivial_app.py", "--env", "CTC_DEMO_DELETE_CACHE=1,1")
    lines = [ln.split() for ln in out.splitlines() if " req  rss " in ln]
    assert [ln[0] for ln in lines] == ["8", "16"] and all(ln[-1] == "0" for ln in lines), out  # no errors
    assert all(float(ln[3]) > 50 for ln in lines), out  # the server's RSS, MB
    assert "done: 16 ok, 0 errors" in out


def test_soak_arena_off_reaches_the_recognizers_session(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    probe = tmp_path / "probe_app.py"
    probe.write_text("from ctc_recognizer import Recognizer\n"
                     "print('arena', Recognizer.from_pretrained().session.get_session_options().enable_cpu_mem_arena)\n")
    for flag, arena in [([], "True"), (["--serve-without-arena", str(probe)], "False")]:
        cmd = [sys.executable, str(probe)] if not flag else [sys.executable, str(root / "bench" / "soak.py"), *flag]
        out = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
        assert f"arena {arena}" in out.stdout, out.stderr[-2000:]


def test_demo_models_run_without_the_onnx_runtime_arena(monkeypatch):
    """The arena kept growing RSS under a long soak (experiments/measurements/soak_2026-11-30.txt):
    the demo's sessions run without it unless the operator sets CTC_DEMO_ORT_ARENA=1."""
    import app

    app._load.cache_clear()
    monkeypatch.delenv("CTC_DEMO_ORT_ARENA", raising=False)
    assert app._load(None).session.get_session_options().enable_cpu_mem_arena is False
    app._load.cache_clear()
    monkeypatch.setenv("CTC_DEMO_ORT_ARENA", "1")
    assert app._load(None).session.get_session_options().enable_cpu_mem_arena is True
    app._load.cache_clear()

"""The Gradio demo, started for real on a free local port and called with gradio_client."""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from ctc_recognizer.recognizer import DEFAULT_MODEL_DIR
from tests.conftest import render_word

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client():
    import app

    port = free_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                    show_error=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        app.demo.close()


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    d = tmp_path_factory.mktemp("words")
    out = {}
    for w in ("Hello", "2025", "Station"):
        p = d / f"{w}.png"
        Image.fromarray(render_word(w, size=36)).save(p)
        out[w] = str(p)
    return out


def test_bundled_model_exists():
    assert (DEFAULT_MODEL_DIR / "config.json").is_file() and (DEFAULT_MODEL_DIR / "model.onnx").is_file()


def test_predict_api_reads_words(client, words):
    for word, path in words.items():
        text, conf = client.predict(handle_file(path), api_name="/predict")
        assert text == word
        assert 0.5 < conf <= 1.0


def test_analyze_returns_text_characters_and_drawings(client, words):
    text, conf, chars, boxes, chart = client.predict(handle_file(words["Hello"]), "greedy", 10, "", "default (bundled)",
                                                     api_name="/analyze")
    assert text == "Hello"
    assert "".join(c["token"] for c in chars) == "Hello"
    assert np.asarray(Image.open(boxes)).shape[0] > 100 and Image.open(chart).size[0] > 100


def test_lexicon_and_beam(client, words):
    text, *_ = client.predict(handle_file(words["Station"]), "beam", 8, "Station, Nation", "default (bundled)",
                              api_name="/analyze")
    assert text == "Station"


def test_batch_tab_table_and_csv(client, words):
    table, csv_path = client.predict([handle_file(p) for p in words.values()], "default (bundled)",
                                     api_name="/batch")
    rows = table["data"] if isinstance(table, dict) else table
    assert sorted(r[1] for r in rows) == sorted(words)
    assert open(csv_path, encoding="utf-8").readline().strip() == "file,text,confidence"


@pytest.mark.parametrize("content, message", [
    (b"this is not an image", "not a readable image"),
    (b"", "empty"),
])
def test_bad_files_get_readable_errors(client, tmp_path, content, message):
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(bad)), api_name="/predict")


def test_huge_image_is_refused_and_app_keeps_serving(client, tmp_path, words):
    huge = tmp_path / "huge.png"
    Image.new("1", (9000, 9000)).save(huge)
    with pytest.raises(Exception, match="50 MP limit"):
        client.predict(handle_file(str(huge)), api_name="/predict")
    assert client.predict(handle_file(words["2025"]), api_name="/predict")[0] == "2025"


def test_bad_model_id_is_a_message(client, words):
    with pytest.raises(Exception, match="Could not load model './no/such/model'"):
        client.predict(handle_file(words["Hello"]), "./no/such/model", api_name="/predict")


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


def test_ui_image_input_refuses_huge_and_non_images(client, tmp_path, words):
    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 20000)).save(huge)
    with pytest.raises(Exception, match="exceeds limit|MP limit"):
        client.predict(handle_file(str(huge)), "greedy", 10, "", "default (bundled)", api_name="/analyze")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(Exception, match="cannot identify image file|not a readable image"):
        client.predict(handle_file(str(bad)), "greedy", 10, "", "default (bundled)", api_name="/analyze")
    assert client.predict(handle_file(words["2025"]), api_name="/predict")[0] == "2025"

"""Recognizer on a tiny real model (the committed fixture tests/fixtures/tiny_model, made by
scripts/make_test_fixture.py)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ctc_recognizer import (ConfigError, ImageError, ModelLoadError, ModelNotFoundError, Prediction,
                            Recognizer)
from tests.conftest import ROOT, TINY_WORDS, render_word


def test_reads_rendered_words(recognizer):
    words = ["tree", "coffee", "room101", "zebra"]
    preds = recognizer([render_word(w) for w in words])
    assert [p.text for p in preds] == words
    for p in preds:
        assert isinstance(p, Prediction)
        assert 0.5 < p.confidence <= 1.0
        assert len(p.char_confidences) == len(p.text) == len(p.char_boxes) == len(p.char_spans)


def test_single_image_returns_one_prediction(recognizer, tmp_path):
    from PIL import Image

    path = tmp_path / "w.png"
    Image.fromarray(render_word("house")).save(path)
    pred = recognizer(str(path))
    assert isinstance(pred, Prediction) and pred.text == "house"


def test_char_boxes_are_ordered_and_inside_the_image(recognizer):
    img = render_word("apple", size=40)
    pred = recognizer(img)
    assert pred.image_size == img.shape[:2]
    x0s = [b[0] for b in pred.char_boxes]
    assert x0s == sorted(x0s)
    assert all(0 <= a < b <= img.shape[1] for a, b in pred.char_boxes)
    # the first character starts in the left half, the last ends in the right half
    assert pred.char_boxes[0][0] < img.shape[1] / 2 < pred.char_boxes[-1][1]


def test_vertical_text_in_a_tall_crop_is_read_turned(recognizer):
    word = render_word("coffee", size=30)
    for k, rotation in ((1, 270), (3, 90)):  # text running bottom-to-top / top-to-bottom
        tall = np.ascontiguousarray(np.rot90(word, k))
        assert tall.shape[0] >= 1.5 * tall.shape[1]
        pred = recognizer(tall)
        assert (pred.text, pred.rotation) == ("coffee", rotation)
        assert pred.image_size == tall.shape[:2]
        # boxes lie along the turned image, which is as wide as the crop is tall
        assert all(0 <= a < b <= tall.shape[0] for a, b in pred.char_boxes)
        assert recognizer(tall, rotate_tall=False).text != "coffee"
    # a wide crop is read once, as it is
    assert recognizer(word).rotation == 0


def test_most_confident_reading_of_a_tall_crop():
    from ctc_recognizer.prediction import most_confident as _most_confident

    def reading(text, conf, rotation):
        n = len(text)
        return Prediction(text, conf, (conf,) * n, ((0, 0),) * n, ((0.0, 1.0),) * n, (90, 20), rotation=rotation)

    # a confidently empty upright reading gives way to a turned word (it did not, by a 0.05 margin)
    assert _most_confident([reading("", 0.976, 0), reading("coffee", 0.99, 90), reading("aaad", 0.967, 270)]).rotation == 90
    # ... but not to an unsure one
    assert _most_confident([reading("", 0.9, 0), reading("xq", 0.4, 90), reading("zz", 0.3, 270)]).rotation == 0
    # a non-empty upright reading needs a clearly more confident turned one to lose
    assert _most_confident([reading("l", 0.95, 0), reading("coffee", 0.97, 90), reading("aa", 0.9, 270)]).rotation == 0
    assert _most_confident([reading("l", 0.53, 0), reading("aaad", 0.967, 90), reading("coffee", 0.99, 270)]).rotation == 270
    # one-character turned readings never win
    assert _most_confident([reading("", 0.9, 0), reading("u", 0.99, 90), reading("n", 0.99, 270)]).rotation == 0


def test_batches_run_through_onnx_runtime_in_real_batches(recognizer, monkeypatch):
    shapes = []
    real_run = recognizer.session.run

    class Spy:
        def run(self, names, feeds):
            shapes.append(next(iter(feeds.values())).shape[0])
            return real_run(names, feeds)

    monkeypatch.setattr(recognizer, "session", Spy())
    images = [render_word(w) for w in TINY_WORDS[:10]]
    preds = recognizer(images, batch_size=4)
    assert shapes == [4, 4, 2]
    assert [p.text for p in preds] == TINY_WORDS[:10]


def test_beam_and_lexicon_decoding(recognizer):
    img = render_word("stone")
    assert recognizer(img, decoder="beam", beam_width=8).text == "stone"
    # a lexicon restricts the answer to its words
    pred = recognizer(img, lexicon=["stone", "store", "tone"])
    assert pred.text == "stone" and len(pred.char_boxes) == 5
    pred = recognizer(img, lexicon=["stove", "glass"])
    assert pred.text == "stove"


def test_return_probs(recognizer):
    pred = recognizer(render_word("cat"), return_probs=True)
    assert pred.probabilities.shape == (32, len(recognizer.vocab) + 1)
    np.testing.assert_allclose(pred.probabilities.sum(-1), 1.0, atol=1e-4)


def test_bad_calls(recognizer):
    with pytest.raises(ValueError, match="empty batch"):
        recognizer([])
    # the post-processor's check, with its message
    with pytest.raises(ValueError, match=r"unknown decoder 'viterbi'; choose one of \('greedy', 'beam'\)"):
        recognizer(render_word("a1"), decoder="viterbi")
    with pytest.raises(ImageError, match="dtype"):
        recognizer(np.zeros((10, 10), np.complex64))
    with pytest.raises(ValueError, match="lexicon has no usable words"):
        recognizer(render_word("cat"), lexicon=["ÉÀ"])


def test_save_pretrained_roundtrip(recognizer, tmp_path):
    recognizer.save_pretrained(tmp_path / "saved")
    names = sorted(p.name for p in (tmp_path / "saved").iterdir())
    assert {"config.json", "model.onnx", "README.md"} <= set(names)
    again = Recognizer.from_pretrained(tmp_path / "saved")
    assert again.config == recognizer.config
    assert again(render_word("milk")).text == "milk"


def test_push_to_hub_uploads_inference_files(recognizer, monkeypatch):
    from huggingface_hub import HfApi

    calls = {}

    def fake_create_repo(self, repo_id, **kw):
        calls["create_repo"] = repo_id
        from huggingface_hub import RepoUrl
        return RepoUrl(f"https://huggingface.co/{repo_id}")

    def fake_upload_folder(self, *, repo_id, folder_path, **kw):
        calls["upload"] = (repo_id, sorted(os.listdir(folder_path)))
        calls["config"] = json.loads(Path(folder_path, "config.json").read_text())
        return "https://huggingface.co/org/name/commit/abc"

    monkeypatch.setattr(HfApi, "create_repo", fake_create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", fake_upload_folder)
    recognizer.push_to_hub("org/name", token="hf_fake")
    assert calls["create_repo"] == "org/name"
    repo, files = calls["upload"]
    assert repo == "org/name" and {"config.json", "model.onnx", "README.md"} <= set(files)
    assert calls["config"]["vocab"] == recognizer.vocab


def _copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_bad_model_folders(tiny_model_dir, tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        Recognizer.from_pretrained(tmp_path / "nowhere")
    with pytest.raises(ModelNotFoundError, match="is a file"):
        Recognizer.from_pretrained(tiny_model_dir / "model.onnx")
    no_cfg = _copy_model(tiny_model_dir, tmp_path / "no_cfg")
    (no_cfg / "config.json").unlink()
    with pytest.raises(ModelNotFoundError, match="config.json"):
        Recognizer.from_pretrained(no_cfg)
    no_onnx = _copy_model(tiny_model_dir, tmp_path / "no_onnx")
    (no_onnx / "model.onnx").unlink()
    with pytest.raises(ModelNotFoundError, match="model.onnx"):
        Recognizer.from_pretrained(no_onnx)
    corrupt = _copy_model(tiny_model_dir, tmp_path / "corrupt")
    (corrupt / "model.onnx").write_bytes(b"\x08\x01garbage" * 10)
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        Recognizer.from_pretrained(corrupt)


def test_malformed_config_json_is_a_config_error(tiny_model_dir, tmp_path):
    for i, content in enumerate(["{not json", "[1, 2]"]):
        d = _copy_model(tiny_model_dir, tmp_path / f"bad{i}")
        (d / "config.json").write_text(content)
        with pytest.raises(ConfigError, match="config.json"):
            Recognizer.from_pretrained(d)


def test_save_pretrained_of_a_quantized_model_names_its_file(tiny_model_dir, tmp_path):
    d = _copy_model(tiny_model_dir, tmp_path / "q")
    shutil.copyfile(d / "model.onnx", d / "model.int8.onnx")
    rec = Recognizer.from_pretrained(d, model_file="model.int8.onnx")
    rec.save_pretrained(tmp_path / "saved")
    assert json.loads((tmp_path / "saved" / "config.json").read_text())["onnx_file"] == "model.int8.onnx"
    assert Recognizer.from_pretrained(tmp_path / "saved")(render_word("moon")).text == "moon"


def test_config_inconsistent_with_graph(tiny_model_dir, tmp_path):
    d = _copy_model(tiny_model_dir, tmp_path / "vocab")
    cfg = json.loads((d / "config.json").read_text())
    cfg["vocab"] = cfg["vocab"][:-1]
    cfg.pop("blank_index"), cfg.pop("num_classes")
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match=r"vocab has 35 characters.*36 classes.*ONNX output has 37"):
        Recognizer.from_pretrained(d)
    d2 = _copy_model(tiny_model_dir, tmp_path / "height")
    cfg = json.loads((d2 / "config.json").read_text())
    cfg["height"] = 48
    (d2 / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="height is 48 but the ONNX input has 32"):
        Recognizer.from_pretrained(d2)
    cfg["height"], cfg["input_name"] = 32, "pixels"
    (d2 / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="input_name 'pixels'"):
        Recognizer.from_pretrained(d2)


def _hub_cache(tmp_path: Path, model_dir: Path, repo: str = "org/tiny") -> Path:
    """A hand-built Hugging Face cache, as hf_hub_download leaves it."""
    cache = tmp_path / "hub"
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = cache / f"models--{repo.replace('/', '--')}"
    snap = repo_dir / "snapshots" / sha
    snap.mkdir(parents=True)
    for name in ("config.json", "model.onnx"):
        shutil.copyfile(model_dir / name, snap / name)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(sha)
    return cache


def _run_offline(cache: Path, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_hub_id_loads_from_cache_offline(tiny_model_dir, tmp_path):
    cache = _hub_cache(tmp_path, tiny_model_dir)
    code = ("import sys; from ctc_recognizer import Recognizer; from tests.conftest import render_word; "
            "r = Recognizer.from_pretrained('org/tiny'); print(r(render_word('glass')).text); "
            "print('tensorflow' in sys.modules)")
    out = _run_offline(cache, code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["glass", "False"]  # read through the Hub cache, without TensorFlow


def test_hub_id_missing_offline_is_a_clear_error(tiny_model_dir, tmp_path):
    cache = _hub_cache(tmp_path, tiny_model_dir)
    code = ("from ctc_recognizer import Recognizer, ModelNotFoundError\n"
            "try:\n    Recognizer.from_pretrained('org/absent')\n"
            "except ModelNotFoundError as e:\n    print('ERR', e)\n")
    out = _run_offline(cache, code)
    assert out.returncode == 0, out.stderr
    assert "ERR model 'org/absent'" in out.stdout and "HF_HUB_OFFLINE" in out.stdout


def test_session_options(tiny_model_dir):
    rec = Recognizer.from_pretrained(tiny_model_dir, intra_op_num_threads=1,
                                     providers=["CPUExecutionProvider"])
    assert rec.session.get_providers() == ["CPUExecutionProvider"]
    assert rec(render_word("bell")).text == "bell"


def _long_crop(word: str) -> np.ndarray:
    """A word followed by blank space: 240 px wide at the model height (32), over the
    long-crop threshold (200), so it is read at 192 without squeezing the word much."""
    img = render_word(word)
    extra = round(240 * img.shape[0] / 32) - img.shape[1]
    assert extra > 0
    return np.pad(img, ((0, 0), (0, extra), (0, 0)), constant_values=255)


def test_long_crops_are_read_at_the_long_width(recognizer, monkeypatch):
    cfg = recognizer.config
    # the export of an architecture whose time steps cover the width sets the long-crop reading
    assert cfg.long_crop_width > cfg.width and cfg.long_crop_threshold >= cfg.width
    assert isinstance(recognizer.session.get_inputs()[0].shape[2], str)  # a dynamic width
    short, long = render_word("coffee"), _long_crop("coffee")
    assert cfg.input_width(*long.shape[:2]) == cfg.long_crop_width
    p_short, p_long = recognizer([short, long], return_probs=True)
    assert p_short.probabilities.shape[0] == cfg.width // 4
    assert p_long.probabilities.shape[0] == cfg.long_crop_width // 4
    assert p_long.text  # (how well long crops read: the default model's tests)
    # character boxes stay in the original image's pixels: the word is at the left
    assert all(0 <= a < b <= render_word("coffee").shape[1] + 8 for a, b in p_long.char_boxes)
    # a mixed batch runs one ONNX Runtime call per input width and keeps the input order
    widths = []
    real_run = recognizer.session.run

    class Spy:
        def run(self, names, feeds):
            widths.append(next(iter(feeds.values())).shape[:3:2])
            return real_run(names, feeds)

    images = [short, long, render_word("tree"), _long_crop("zebra")]
    # (recheck off: its second looks would add calls of their own)
    alone = [recognizer(im, recheck=0).text for im in images]
    monkeypatch.setattr(recognizer, "session", Spy())
    assert [p.text for p in recognizer(images, recheck=0)] == alone
    assert sorted(widths) == [(2, cfg.width), (2, cfg.long_crop_width)]
    from ctc_recognizer.preprocessing import preprocess

    with pytest.raises(ValueError, match="images of one size"):
        recognizer.predict_probs([preprocess(short, cfg).image, preprocess(long, cfg).image])


def test_long_crop_setting_needs_a_dynamic_width_graph(tiny_model_dir, tmp_path):
    onnx = pytest.importorskip("onnx")  # onnx comes with the train extra only

    d = _copy_model(tiny_model_dir, tmp_path / "fixed")
    graph = onnx.load(str(d / "model.onnx"))
    dim = graph.graph.input[0].type.tensor_type.shape.dim[2]
    dim.Clear()
    dim.dim_value = 128
    onnx.save(graph, str(d / "model.onnx"))
    with pytest.raises(ConfigError, match="long_crop_width is 192, but the ONNX input width is fixed at 128"):
        Recognizer.from_pretrained(d)
    cfg = json.loads((d / "config.json").read_text())
    cfg["long_crop_width"] = cfg["long_crop_threshold"] = None
    (d / "config.json").write_text(json.dumps(cfg))
    rec = Recognizer.from_pretrained(d)  # without the setting every crop is read at 128
    assert rec(_long_crop("coffee"), return_probs=True).probabilities.shape[0] == 32


def test_a_long_line_gets_time_steps_in_proportion_to_its_length(recognizer):
    from ctc_recognizer.preprocessing import input_width

    line = render_word("cat dog tree house river green stone light")
    width = input_width(recognizer.config, *line.shape[:2])
    assert width > recognizer.config.long_crop_width
    pred = recognizer(line, return_probs=True, recheck=0)  # (a trimmed second look reads wider)
    assert pred.probabilities.shape[0] == width // 4  # one time step per 4 input columns
    assert all(0 <= a < b <= line.shape[1] for a, b in pred.char_boxes)


class _MarginSession:
    """A stand-in ONNX session: a crop whose top rows are dark (a margin above the word) reads
    'xx' at ``margin_confidence``; any other crop reads 'ok' at ``clean_confidence``. Counts
    the rows it is given."""

    def __init__(self, charset, margin_confidence=0.6, clean_confidence=0.99, clean_text="ok", margin_text="xx"):
        self.charset, self.rows, self.clean_text, self.margin_text = charset, 0, clean_text, margin_text
        self.confidence = {True: margin_confidence, False: clean_confidence}

    def _probs(self, text, confidence, steps):
        probs = np.full((steps, self.charset.num_classes), 0.0, dtype=np.float32)
        probs[:, self.charset.blank_index] = 1.0
        for k, ch in enumerate(text):
            t = 2 + 3 * k
            probs[t] = (1.0 - confidence) / (self.charset.num_classes - 1)
            probs[t, self.charset.vocab.index(ch)] = confidence
        return probs

    def run(self, names, feeds):
        batch = next(iter(feeds.values()))
        self.rows += len(batch)
        out = []
        for image in batch:
            margin = bool(image[0, :8].mean() < 100)  # (the right side may be padding)
            text = self.margin_text if margin else self.clean_text
            out.append(self._probs(text, self.confidence[margin], image.shape[1] // 4))
        return [np.stack(out)]


def _word_under_a_margin(height=50, width=120, margin_rows=3):
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    image[height // 3: 2 * height // 3, 10:width - 10] = 40  # the "word"
    image[:margin_rows] = 0  # a dark margin above it, inside the 8% the second look trims
    return image


def test_recheck_reads_an_unsure_crop_again_trimmed_and_keeps_the_surer_reading(recognizer, monkeypatch):
    from ctc_recognizer.recognizer import RECHECK_TRIM, trim_rows

    image = _word_under_a_margin()
    assert trim_rows(image).shape[0] == 50 - 2 * round(50 * RECHECK_TRIM)
    session = _MarginSession(recognizer.charset)
    monkeypatch.setattr(recognizer, "session", session)
    pred = recognizer(image)  # the whole crop reads 'xx' at 0.6: read again without the margin
    assert (pred.text, session.rows) == ("ok", 2)
    assert pred.confidence > 0.95 and pred.image_size == (50, 120)
    # boxes stay in the original image's pixels (the trim keeps every column)
    assert all(0 <= a < b <= 120 for a, b in pred.char_boxes)
    assert recognizer(image, recheck=0).text == "xx"  # off: one reading
    assert recognizer(image, recheck=0.5).text == "xx"  # 0.6 is sure enough at 0.5
    # a batch re-reads only its unsure crops, and keeps the input order
    session.rows = 0
    clean = np.full((50, 120, 3), 255, dtype=np.uint8)
    clean[20:30, 10:110] = 40
    assert [p.text for p in recognizer([clean, image, clean], num_workers=0)] == ["ok", "ok", "ok"]
    assert session.rows == 4
    assert [p.text for p in recognizer([clean, image, clean], num_workers=2, batch_size=1)] == ["ok", "ok", "ok"]


def test_recheck_decodes_each_reading_once_and_trims_large_inputs_at_once(recognizer, monkeypatch):
    from ctc_recognizer import recognizer as recognizer_module
    from ctc_recognizer.postprocessing import CTCPostProcessor

    decoded = []
    real_call = CTCPostProcessor.__call__
    monkeypatch.setattr(CTCPostProcessor, "__call__",
                        lambda self, probs: decoded.append((self.decoder, len(probs))) or real_call(self, probs))
    monkeypatch.setattr(recognizer, "session", _MarginSession(recognizer.charset))
    image = _word_under_a_margin()
    assert recognizer(image).text == "ok"
    # greedy: the gate's decoding of the first reading is the post-processor's, reused
    assert decoded == [("greedy", 1), ("greedy", 1)]
    decoded.clear()
    # beam: the gate decodes best path, the post-processor beam-searches both readings
    assert recognizer(image, decoder="beam").text == "ok"
    assert sorted(decoded) == [("beam", 1), ("beam", 1), ("greedy", 1)]
    # an input over LAZY_TRIM_BYTES has its trimmed crop pre-processed at once; the same reading
    prepared = recognizer.preprocess(image)
    assert isinstance(prepared.trimmed, np.ndarray) and prepared.trimmed.shape[0] < 50
    monkeypatch.setattr(recognizer_module, "LAZY_TRIM_BYTES", 0)
    assert not isinstance(recognizer.preprocess(image).trimmed, np.ndarray)
    pred = recognizer(image)
    assert (pred.text, pred.image_size) == ("ok", (50, 120))


def test_recheck_keeps_the_first_reading_when_the_trimmed_one_is_no_surer(recognizer, monkeypatch):
    image = _word_under_a_margin()
    monkeypatch.setattr(recognizer, "session", _MarginSession(recognizer.charset, 0.6, 0.5))
    assert recognizer(image).text == "xx"
    # a blank second look (confidently empty: the trim cut the text off) does not win either
    monkeypatch.setattr(recognizer, "session", _MarginSession(recognizer.charset, 0.6, 0.99, clean_text=""))
    assert recognizer(image).text == "xx"
    # nor one that only lacks the first reading's tall glyphs, which the trim may have clipped
    # (the bundled model's vocabulary has them; its session is replaced as above)
    bundled = Recognizer.from_pretrained()
    for first, second, kept in (("$12", "12", "$12"), ("(ok)", "ok", "(ok)"), ("a12", "12", "12")):
        monkeypatch.setattr(bundled, "session", _MarginSession(bundled.charset, 0.6, 0.99, second, first))
        assert bundled(image).text == kept
    # a crop too short to trim is read once
    session = _MarginSession(recognizer.charset, 0.6, 0.99)
    monkeypatch.setattr(recognizer, "session", session)
    short = _word_under_a_margin(height=9, margin_rows=1)
    assert (recognizer(short).text, session.rows) == ("xx", 1)


def test_recheck_on_real_words_and_bad_values(recognizer):
    words = ["tree", "coffee", "room101", "zebra"]
    images = [render_word(w) for w in words]
    assert [p.text for p in recognizer(images)] == [p.text for p in recognizer(images, recheck=0)] == words
    # re-reading every crop (recheck 1: all are under 100% sure) keeps right readings right
    assert [p.text for p in recognizer(images, recheck=1.0)] == words
    assert recognizer(images[0], recheck=np.float32(0.5)).text == words[0]  # numpy numbers are numbers
    for bad in (-0.1, 1.5, "high", True, None):
        with pytest.raises(ValueError, match="recheck must be a number from 0"):
            recognizer(images[0], recheck=bad)

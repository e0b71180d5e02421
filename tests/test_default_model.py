"""The bundled default model: loads offline with no argument, reads words, ships its card,
and is the starting point of a fine-tuning run with one flag."""

import os
import subprocess
import sys

import pytest
import yaml

from ctc_recognizer import Recognizer
from ctc_recognizer.recognizer import DEFAULT_MODEL_DIR
from tests.conftest import ROOT, render_word


def test_loads_offline_without_arguments_and_without_tensorflow():
    code = ("import sys; from ctc_recognizer import Recognizer; from tests.conftest import render_word; "
            "r = Recognizer.from_pretrained(); print([r(render_word(w, size=40)).text for w in ('Hello', 'World', '2025')]); "
            "print('tensorflow' in sys.modules)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["['Hello', 'World', '2025']", "False"]


def test_reads_mixed_case_digits_and_punctuation():
    """Mixed case and digits exactly; words with punctuation at least in their letters and
    digits (the model often drops a word's trailing punctuation: a known limit, measured in
    the model card), and punctuation inside a number is kept."""
    from ctc_recognizer import standard_text

    rec = Recognizer.from_pretrained()
    words = ["Coffee", "EXIT", "42", "Street"]
    assert [p.text for p in rec([render_word(w, size=36) for w in words])] == words
    punctuated = ["hello!", "$12.50", "(2024)", "A-7b", "Exit 42"]
    preds = rec([render_word(w, size=36) for w in punctuated])
    assert [standard_text(p.text) for p in preds] == [standard_text(w) for w in punctuated]
    assert "12.50" in preds[1].text


def test_long_crops_and_short_lines_are_read_wider():
    """Crops much wider than the 32x128 input (short lines, long numbers) are read at
    192 px (48 time steps) instead of being squeezed into 32 steps, where adjacent characters
    merge: the squeezed reading of these lines drops or garbles characters."""
    import dataclasses

    rec = Recognizer.from_pretrained()
    assert (rec.config.long_crop_width, rec.config.long_crop_threshold) == (192, 200)
    lines = ["Open daily 9am to 5pm", "Call 555-0199 now", "Main Street 1024"]
    images = [render_word(t, size=36) for t in lines]
    preds = rec(images, return_probs=True)
    assert [p.text for p in preds] == lines
    assert all(p.probabilities.shape[0] == 48 for p in preds)
    squeezed = Recognizer.from_pretrained()
    squeezed.config = dataclasses.replace(squeezed.config, long_crop_width=None, long_crop_threshold=None)
    assert [p.text for p in squeezed(images)] != lines
    assert rec(render_word("Coffee", size=36), return_probs=True).probabilities.shape[0] == 32


def test_bundle_layout_and_model_card():
    names = {p.name for p in DEFAULT_MODEL_DIR.iterdir()}
    assert {"config.json", "model.onnx", "README.md"} <= names  # model.keras: training/pretrained/default
    assert sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir()) < 20_000_000
    card = (ROOT / "model_card.md").read_text(encoding="utf-8")
    assert (DEFAULT_MODEL_DIR / "README.md").read_text(encoding="utf-8") == card
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["library_name"] == "ctc-recognizer" and meta["pipeline_tag"] == "image-to-text"
    assert meta["license"] and meta["model-index"][0]["results"]


def test_int8_variant_is_bundled_and_reads_words():
    assert (DEFAULT_MODEL_DIR / "model.int8.onnx").is_file()
    words = ["Station", "Coffee", "EXIT", "42", "Street", "quickly"]
    images = [render_word(w, size=40) for w in words]
    int8 = Recognizer.from_pretrained(model_file="model.int8.onnx")
    assert [p.text for p in int8(images)] == words


def test_fine_tune_from_the_bundled_model_is_one_flag(tmp_path):
    pytest.importorskip("tensorflow")
    from tests.test_train_cli import run_train
    from tests.test_training import make_labels_folder

    crops = make_labels_folder(tmp_path / "crops", ["Hello", "World", "Coffee", "Street", "2025", "EXIT"] * 3)
    out = tmp_path / "ft"
    res = run_train(["--init-from", str(DEFAULT_MODEL_DIR), "--data", f"folder:{crops}", "--holdout", "0.2",
                     "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "8", "--lr", "1e-4",
                     "--output-dir", str(out)])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rec = Recognizer.from_pretrained(out / "model")
    base = Recognizer.from_pretrained()
    assert rec.config.vocab == base.config.vocab and rec.config.architecture == base.config.architecture
    assert rec(render_word("Coffee", size=40)).text == "Coffee"

"""Shared fixtures: words rendered with Pillow on the spot; a tiny real model committed with the
tests (ONNX only, read without TensorFlow); and, for tests of training code, a tiny model
trained, exported and loaded once per test session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

TINY_VOCAB = "0123456789abcdefghijklmnopqrstuvwxyz"
# every character appears in several words, so a short training learns each of them
TINY_WORDS = ["cat", "dog", "tree", "house", "river", "green", "stone", "light", "apple", "zebra",
              "quiz", "jump", "bell", "moon", "star", "wind", "rain", "sun", "road", "lemon",
              "door", "book", "milk", "coffee", "table", "chair", "glass", "paper", "plant", "clock",
              "2024", "911", "42", "7up", "room101", "bus12", "a1b2", "bread", "ocean", "train"]


def font_path() -> str | None:
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"):
        if os.path.isfile(p):
            return p
    return None


def render_word(text: str, size: int = 28, fg=(0, 0, 0), bg=(255, 255, 255), pad: int = 4) -> np.ndarray:
    """A clean RGB uint8 image of ``text`` at its natural size."""
    path = font_path()
    font = ImageFont.truetype(path, size) if path else ImageFont.load_default(size)
    l, t, r, b = font.getbbox(text)
    img = Image.new("RGB", (r - l + 2 * pad, b - t + 2 * pad), bg)
    ImageDraw.Draw(img).text((pad - l, pad - t), text, font=font, fill=fg)
    return np.asarray(img)


def render_lines(lines: list[str], size: int = 24, spacing: float = 1.3, pad: int = 12) -> np.ndarray:
    """A clean RGB uint8 image of several text lines, one under the other (a paragraph: the
    recognizer warns that it is not one word or line)."""
    path = font_path()
    font = ImageFont.truetype(path, size) if path else ImageFont.load_default(size)
    width = max(int(font.getlength(line)) for line in lines) + 2 * pad
    img = Image.new("RGB", (width, int(len(lines) * size * spacing) + 2 * pad), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * size * spacing), line, font=font, fill="black")
    return np.asarray(img)


#: A tiny ``crnn_small`` model committed with the tests (config.json + model.onnx, made by
#: scripts/make_test_fixture.py): it reads TINY_WORDS, and has a dynamic input width and the
#: long-crop setting. Library and CLI tests use it and never import TensorFlow.
FIXTURE_MODEL_DIR = ROOT / "tests" / "fixtures" / "tiny_model"
#: Top-level modules the inference library and its tests must never import.
TRAINING_MODULES = ("tensorflow", "keras", "tf2onnx", "training")
#: When set, the test session writes the TRAINING_MODULES it imported to this file at its end
#: (tests/test_no_tensorflow.py runs library tests in a subprocess with it).
IMPORTED_MODULES_REPORT_ENV = "CTC_TEST_IMPORTED_MODULES_REPORT"


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The committed tiny model (read-only: copy it before changing a file in it)."""
    return FIXTURE_MODEL_DIR


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory) -> Path:
    """A small real model trained now with TensorFlow (crnn_small, until it reads TINY_WORDS)
    and exported: model.keras, model.onnx and config.json, for tests of training code."""
    from tests.helpers import train_tiny_model

    out = tmp_path_factory.mktemp("tiny_model")
    train_tiny_model(out)
    return out


@pytest.fixture(scope="session")
def recognizer(tiny_model_dir):
    from ctc_recognizer import Recognizer

    return Recognizer.from_pretrained(str(tiny_model_dir))


def pytest_sessionfinish(session, exitstatus):
    report = os.environ.get(IMPORTED_MODULES_REPORT_ENV)
    if report:
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in TRAINING_MODULES)
        Path(report).write_text("".join(f"{m}\n" for m in loaded))

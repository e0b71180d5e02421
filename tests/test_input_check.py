"""Warnings for inputs that are not a word crop (issue 25.7): several lines of text, a very
large or tall image, a low confidence, a blank crop (read as no text); none for word crops."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ctc_recognizer import Prediction, Recognizer, preprocess
from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.input_check import (LARGE_IMAGE_PIXELS, LOW_CONFIDENCE, MULTILINE_WARNING,
                                        NO_TEXT_WARNING, has_no_text,
                                        TALL_IMAGE_ROWS, layout_warning, reading_warning, text_bands)
from tests.conftest import ROOT, font_path, render_word

LINES = ["The quick brown fox", "jumps over the lazy", "dog and runs away."]


@pytest.fixture(scope="module")
def default_rec():
    return Recognizer.from_pretrained()


def paragraph(lines, size=24, spacing=1.3, pad=12, width=None, height=None) -> np.ndarray:
    path = font_path()
    if path is None:
        pytest.skip("no TrueType font (fonts-dejavu) installed")
    font = ImageFont.truetype(path, size)
    w = width or max(int(font.getlength(line)) for line in lines) + 2 * pad
    h = height or int(len(lines) * size * spacing) + 2 * pad
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * size * spacing), line, font=font, fill="black")
    return np.asarray(img)


def test_word_crops_get_no_warning(default_rec):
    examples = sorted((ROOT / "examples").glob("*.png"))
    assert len(examples) >= 5
    words = [render_word(w, size=s) for s in (14, 28, 60) for w in ("Library", "jumping", "EXIT", "2025", "iii")]
    for source, pred in zip([*examples, *words], default_rec([*examples, *words])):
        assert pred.warning is None, (str(source)[:40], pred.text, pred.confidence, pred.warning)
        assert pred.to_dict()["warning"] is None


@pytest.mark.parametrize("spacing", [1.15, 1.5])
def test_a_paragraph_is_several_lines(default_rec, spacing):
    img = paragraph(LINES, spacing=spacing)
    assert len(text_bands(img)) == 3
    pred = default_rec(img)
    assert pred.warning == MULTILINE_WARNING
    assert pred.to_dict()["warning"] == MULTILINE_WARNING
    # one of its lines alone is fine
    assert len(text_bands(paragraph(LINES[:1]))) == 1


def test_a_page_is_flagged(default_rec):
    page = paragraph(LINES * 12, size=28, spacing=1.6, width=1700, height=2300)
    pred = default_rec(page)
    assert pred.warning is not None and "crop a single word or line" in pred.warning


def test_very_large_and_very_tall_images():
    big = np.full((1800, LARGE_IMAGE_PIXELS // 1800 + 10, 3), 255, np.uint8)
    big[800:1000, 100:300] = 0
    assert "is large (" in layout_warning(big) and f"{big.shape[1]}x1800 pixels" in layout_warning(big)
    tall = np.full((TALL_IMAGE_ROWS + 1, 300), 255, np.uint8)
    assert "very tall (2001 pixels)" in layout_warning(tall)
    assert layout_warning(np.full((64, 200), 255, np.uint8)) is None


def test_low_confidence_warning():
    assert reading_warning(None, LOW_CONFIDENCE + 0.01) is None
    assert reading_warning(None, 0.24) == ("Low confidence (0.24): this may not be a cropped word or "
                                           "short line, or the text is hard to read.")
    assert reading_warning(MULTILINE_WARNING, 0.1) == MULTILINE_WARNING
    pred = Prediction("5", 0.24, (0.24,), ((0, 0),), ((0.0, 1.0),), (10, 10), warning="w")
    assert pred.to_dict()["warning"] == "w"
    assert Prediction("a", 1.0, (1.0,), ((0, 0),), ((0.0, 1.0),), (10, 10)).warning is None


def test_vertical_text_read_turned_is_not_several_lines(default_rec):
    word = render_word("EXIT", size=40)
    tall = np.ascontiguousarray(np.rot90(word, 1))  # reads bottom to top
    assert len(text_bands(tall)) >= 2  # each turned letter is a band of rows...
    pred = default_rec(tall)
    assert pred.rotation != 0 and pred.text == "EXIT"
    assert pred.warning is None  # ... but a crop read turned is one line of vertical text


def test_layout_check_takes_every_supported_array():
    word = render_word("Library", size=30)
    for array in (word, word[:, :, 0], word.astype(np.float32) / 255.0, word.astype(np.uint16) * 257,
                  np.dstack([word, np.full(word.shape[:2], 255, np.uint8)]), word[:, :, 0] > 128):
        assert len(text_bands(array)) == 1, array.dtype


def blank_crops():
    rng = np.random.default_rng(0)
    noisy = np.clip(235 + rng.normal(0, 3, (32, 900, 3)), 0, 255).astype(np.uint8)
    return {"white 32x800": np.full((32, 800, 3), 255, np.uint8),
            "white 32x6000": np.full((32, 6000, 3), 255, np.uint8),
            "gray 40x1200": np.full((40, 1200), 128, np.uint8),
            "white 32x90": np.full((32, 90, 3), 255, np.uint8),
            "noisy paper 32x900": noisy}


def test_blank_crops_read_as_no_text_with_a_warning(default_rec):
    """The bundled model read blank long crops as 'ao' at confidence 0.56-0.58, with no warning."""
    crops = blank_crops()
    for name, pred in zip(crops, default_rec(list(crops.values()))):
        assert (pred.text, pred.warning) == ("", NO_TEXT_WARNING), name
        assert pred.char_boxes == () and pred.char_confidences == () and 0 <= pred.confidence <= 1


def test_a_word_with_lots_of_white_space_is_still_read(default_rec):
    word = render_word("house", size=28)
    h, w = word.shape[:2]
    for width, at in ((300, 10), (800, 10), (800, 700), (1200, 600)):
        wide = np.full((h, width, 3), 255, np.uint8)
        wide[:, at:at + w] = word
        pred = default_rec(wide)
        assert (pred.text, pred.warning) == ("house", None), (width, at)


def test_no_text_check_looks_at_contrast_only():
    config = RecognizerConfig(vocab="abc", width=128, long_crop_width=192, long_crop_threshold=200)
    for name, crop in blank_crops().items():
        assert has_no_text(preprocess(crop, config)), name
    assert not has_no_text(preprocess(render_word("cat"), config))
    # faint text (28 gray levels on white, fainter than any of 3,000 real crops) is still text
    faint = 255 - (255 - render_word("cat", size=24)) // 9
    assert 25 <= 255 - int(faint.min()) <= 30
    assert not has_no_text(preprocess(faint, config))

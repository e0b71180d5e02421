"""Character boxes land on their glyphs (issue 25.1): words rendered at known glyph positions,
read by the bundled default model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ctc_recognizer import Recognizer, RecognizerConfig
from ctc_recognizer.boxes import FrameGeometry, ink_columns, model_boxes
from tests.conftest import font_path

WORDS = ["Library", "garden", "EXIT", "Morning", "2025", "thunder", "kitchen", "Wonderful",
         "market", "information"]
HEIGHTS = (32, 48, 80, 120)
TOLERANCE = 1.5  # pixels of the original image


@pytest.fixture(scope="module")
def default_rec():
    return Recognizer.from_pretrained()


def render_at(word: str, height: int, left: int, right: int) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """``word`` drawn ``left`` pixels from the left edge of an image ``height`` tall, and the
    ink x-range of each glyph (advance of the prefix + the glyph's own bounding box)."""
    path = font_path()
    if path is None:
        pytest.skip("no TrueType font (fonts-dejavu) installed")
    font = ImageFont.truetype(path, int(height * 0.62))
    l, t, r, b = font.getbbox(word)
    img = Image.new("RGB", (left + (r - l) + right, height), (255, 255, 255))
    ox, oy = left - l, (height - (b - t)) // 2 - t
    ImageDraw.Draw(img).text((ox, oy), word, font=font, fill=(0, 0, 0))
    glyphs = []
    for i, ch in enumerate(word):
        advance = font.getlength(word[:i])
        g0, _, g1, _ = font.getbbox(ch)
        glyphs.append((ox + advance + g0, ox + advance + g1))
    return np.asarray(img), glyphs


def test_box_centres_fall_inside_their_glyphs(default_rec):
    cases = [(w, h, int(h * (0.1 + 0.2 * (i % 4)))) for h in HEIGHTS for i, w in enumerate(WORDS)]
    images = [render_at(w, h, left, int(h * 0.2)) for w, h, left in cases]
    preds = default_rec([img for img, _ in images])
    read = 0
    for (word, height, left), (img, glyphs), pred in zip(cases, images, preds):
        if pred.text != word:
            continue  # boxes of a misread word have no right answer
        read += 1
        for ch, (x0, x1), (g0, g1) in zip(word, pred.char_boxes, glyphs):
            centre = (x0 + x1) / 2
            assert 0 <= x0 < x1 <= img.shape[1]
            assert g0 - TOLERANCE <= centre <= g1 + TOLERANCE, (
                f"{word!r} at height {height}, margin {left}: {ch!r} box {(x0, x1)} centre {centre:.1f} "
                f"is outside its glyph {(round(g0, 1), round(g1, 1))}")
        if glyphs[0][0] >= 10:
            # the model emits the first character at frame 0 whatever the margin; its box must not
            assert pred.char_boxes[0][0] >= glyphs[0][0] - TOLERANCE, (word, height, pred.char_boxes[0])
    assert read >= 0.8 * len(cases), f"only {read} of {len(cases)} rendered words read correctly"


def test_first_box_starts_at_the_glyph_not_at_zero(default_rec):
    img, glyphs = render_at("Library", 32, 20, 6)
    pred = default_rec(img)
    assert pred.text == "Library"
    assert pred.char_boxes[0][0] >= glyphs[0][0] - TOLERANCE > 15


def test_frame_geometry_follows_the_architecture():
    crnn = RecognizerConfig(vocab="ab", architecture="crnn")
    geo = FrameGeometry.for_model(crnn, 128, 32)
    # stride-2 conv with TF "same" padding (no left pad) then a 2x max-pool: 4t + 2.5
    assert (geo.stride, geo.offset) == (4.0, 2.5)
    assert geo.centres(np.array([0, 31])).tolist() == [2.5, 126.5]
    seed = RecognizerConfig(vocab="ab", architecture="seed", time_columns=32)
    geo = FrameGeometry.for_model(seed, 128, 256)  # 8 rows of 32 columns, row-major
    assert (geo.stride, geo.offset, geo.columns) == (4.0, 3.5, 32)
    assert geo.centres(np.array([32 + 5])).tolist() == [4 * 5 + 3.5]
    other = FrameGeometry.for_model(RecognizerConfig(vocab="ab", architecture="custom"), 100, 50)
    assert (other.stride, other.offset) == (2.0, 1.0)


def test_boxes_are_trimmed_to_ink_and_a_blank_margin_emission_is_moved():
    geo = FrameGeometry(stride=4.0, offset=2.5, columns=32)
    ink = np.zeros(100, bool)
    ink[20:40] = ink[44:60] = True
    spans = np.array([[0, 0], [6, 6], [11, 12]])  # first char emitted at frame 0, in the margin
    boxes = model_boxes(spans, geo, 100, ink, "abc")
    assert boxes[0].tolist() == [20.0, 24.5]      # the ink before the next box
    assert boxes[1].tolist() == [24.5, 28.5]      # inside the ink: unchanged
    assert boxes[2].tolist() == [44.5, 52.5]
    # a space is not moved onto ink, and without ink information nothing moves
    assert model_boxes(spans, geo, 100, ink, " bc")[0].tolist() == [0.5, 4.5]
    assert model_boxes(spans, geo, 100, None)[0].tolist() == [0.5, 4.5]


def test_ink_columns_ignore_the_background():
    img = np.full((32, 64, 3), 230, np.uint8)
    img[8:24, 10:20] = 20     # dark text
    img[:, 40:] = 224         # a faint background change is not ink
    ink = ink_columns(img, 64)
    assert np.flatnonzero(ink).tolist() == list(range(10, 20))


def test_a_frame_read_in_the_padding_still_gets_a_box():
    geo = FrameGeometry(stride=4.0, offset=2.5, columns=32)
    boxes = model_boxes(np.array([[2, 3], [30, 31]]), geo, 60)  # frames 30-31 lie past column 60
    assert boxes[1].tolist() == [58.0, 60.0]
    assert all(x0 < x1 for x0, x1 in boxes.tolist())

"""Is an input a word crop? Hints for images the recognizer is not made for.

The model reads one cropped word or short line. Given a page, a paragraph or a photo it still
returns *something* (often a few confident-looking characters), so
:class:`~ctc_recognizer.prediction.Prediction` carries a ``warning`` when the input is
unlikely to be one word or line:

* several rows of text: the horizontal projection profile of the image's vertical edges
  (text strokes; horizontal rules and underlines have none) has two or more separated bands
  of similar height;
* a very large image (more than :data:`LARGE_IMAGE_PIXELS`) or a very tall one (more than
  :data:`TALL_IMAGE_ROWS` rows);
* a low word confidence (below :data:`LOW_CONFIDENCE`).

A crop with no text at all (blank, or nothing that stands out from its background by
:data:`NO_TEXT_CONTRAST` gray levels) reads as empty text with :data:`NO_TEXT_WARNING`: the
model, given only background, may otherwise emit a few confident-looking letters.
"""

from __future__ import annotations

import cv2
import numpy as np

from .preprocessing import Preprocessed, median_rows, to_rgb_uint8

#: More pixels than this is a photo or a page, not a word crop.
LARGE_IMAGE_PIXELS = 4_000_000
#: More rows than this is a page or a screenshot, not a word crop.
TALL_IMAGE_ROWS = 2000
#: A reading less confident than this gets a warning.
LOW_CONFIDENCE = 0.5
#: The image is looked at with at most this many rows (enough for a few lines of text).
PROFILE_HEIGHT = 160
#: A column step is a stroke edge when it changes by at least this many gray levels...
EDGE_MIN_CONTRAST = 40.0
#: ... and by at least this share of the image's strong edges (its 99.5th percentile).
EDGE_RELATIVE_CONTRAST = 0.35
#: A row holds text when its share of edge pixels is at least this share of the busiest row's.
ROW_RELATIVE_DENSITY = 0.2
#: Rows between two lines are (nearly) empty: at most this share of the busiest row's density.
GAP_RELATIVE_DENSITY = 0.08
#: Bands of text rows lower than this share of the tallest band (i-dots, accents, underlines,
#: clutter) are not lines.
MIN_BAND_RATIO = 0.5
#: Bands closer than this many rows, or this share of the lower band's height, are one line.
MIN_GAP_ROWS = 2
MIN_GAP_RATIO = 0.25
#: A line of text is at least this many rows tall.
MIN_BAND_ROWS = 4
#: A model-ready crop none of whose 3x3 neighbourhoods differs from the background (the median
#: border gray) by this many gray levels on average holds no text. The faintest of 3,000 real
#: word crops (/work/shared/data) differs by 16.6; white paper with noise of sigma 4, by 5.
NO_TEXT_CONTRAST = 10.0

MULTILINE_WARNING = "This looks like several lines of text; crop a single word or line."
LARGE_WARNING = ("This image is large ({width}x{height} pixels) for a word crop; crop a single "
                 "word or line.")
TALL_WARNING = ("This image is very tall ({height} pixels) for a word crop; crop a single word "
                "or line.")
NO_TEXT_WARNING = "No text found in this image."
LOW_CONFIDENCE_WARNING = ("Low confidence ({confidence:.2f}): this may not be a cropped word or "
                          "short line, or the text is hard to read.")


def _gray(array: np.ndarray) -> np.ndarray:
    """A validated array of any supported dtype/layout -> uint8 gray (alpha composited on
    white), at most PROFILE_HEIGHT rows (aspect ratio kept)."""
    if array.dtype.kind == "b":
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind in "iu" and array.dtype not in (np.uint8, np.uint16):
        array = array.astype(np.uint8 if int(array.max()) <= 255 else np.uint16)
    elif array.dtype.kind == "f" and array.dtype != np.float32:
        array = array.astype(np.float32)
    h, w = array.shape[:2]
    if h > PROFILE_HEIGHT:
        size = (max(2, round(w * PROFILE_HEIGHT / h)), PROFILE_HEIGHT)
        array = cv2.resize(array, size, interpolation=cv2.INTER_AREA)
    if array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)  # the common case, without a float copy
    if array.dtype == np.uint8 and array.ndim == 2:
        return array
    return cv2.cvtColor(to_rgb_uint8(array), cv2.COLOR_RGB2GRAY)


def text_bands(array: np.ndarray) -> list[tuple[int, int]]:
    """Row bands ``(start, end)`` (end exclusive, in the possibly downscaled image) that hold
    text strokes, tallest-relative filtered: one band for a word or a line, more for a paragraph."""
    gray = _gray(array)
    if gray.shape[0] < 8 or gray.shape[1] < 3:
        return []
    edges = cv2.absdiff(gray[:, 1:], gray[:, :-1])
    k = int(0.995 * (edges.size - 1))
    strong = float(np.partition(edges.ravel(), k)[k])  # the 99.5th percentile
    if strong < EDGE_MIN_CONTRAST:
        return []
    density = (edges >= max(EDGE_MIN_CONTRAST, EDGE_RELATIVE_CONTRAST * strong)).mean(axis=1)
    peak = float(density.max())
    rows = density >= ROW_RELATIVE_DENSITY * peak
    changes = np.flatnonzero(np.diff(np.r_[0, rows.astype(np.int8), 0]))
    bands: list[tuple[int, int]] = []
    for start, end in zip(changes[::2].tolist(), changes[1::2].tolist()):
        # a short gap, or one that is not (nearly) empty, splits one line (the middle bars of
        # 'B', 'E', '2'), not two lines
        if bands and (start - bands[-1][1] < max(MIN_GAP_ROWS, MIN_GAP_RATIO * min(end - start, bands[-1][1] - bands[-1][0]))
                      or density[bands[-1][1]:start].min() > GAP_RELATIVE_DENSITY * peak):
            bands[-1] = (bands[-1][0], end)
        else:
            bands.append((start, end))
    if not bands:
        return []
    tallest = max(end - start for start, end in bands)
    return [(s, e) for s, e in bands if e - s >= max(MIN_BAND_ROWS, MIN_BAND_RATIO * tallest)]


def has_no_text(prepped: Preprocessed) -> bool:
    """True when the model-ready image holds nothing that stands out from its background
    (:data:`NO_TEXT_CONTRAST`): a blank or near-blank crop, which is not read as text."""
    content = np.ascontiguousarray(prepped.image[:, :prepped.content_width])
    gray = (cv2.cvtColor(content, cv2.COLOR_RGB2GRAY) if content.shape[2] == 3 else content[:, :, 0])
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    deviation = np.abs(gray.astype(np.float32) - float(median_rows(border)))
    return float(cv2.blur(deviation, (3, 3)).max()) < NO_TEXT_CONTRAST


def layout_warning(array: np.ndarray) -> str | None:
    """The warning an input deserves before it is read: several lines of text, or a very
    large or very tall image; None for a plausible word or line crop."""
    height, width = array.shape[:2]
    if len(text_bands(array)) >= 2:
        return MULTILINE_WARNING
    if height * width > LARGE_IMAGE_PIXELS:
        return LARGE_WARNING.format(width=width, height=height)
    if height > TALL_IMAGE_ROWS:
        return TALL_WARNING.format(height=height)
    return None


def reading_warning(layout: str | None, confidence: float) -> str | None:
    """The warning of a reading: the layout's, else a low-confidence one."""
    if layout:
        return layout
    if confidence < LOW_CONFIDENCE:
        return LOW_CONFIDENCE_WARNING.format(confidence=confidence)
    return None

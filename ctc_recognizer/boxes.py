"""Where each character is: model time steps -> x-ranges in the original image.

A time step (frame) of the network's output sequence looks at a window of input columns
centred at ``offset + stride * column`` (in model-input pixels, continuous coordinates: a
pixel ``i`` spans ``[i, i + 1)``). For the ``crnn`` family (``training/model.py``) the
stride is 4: a 3x3 stride-2 convolution with TensorFlow ``"same"`` padding (no left pad on an
even width), so output column ``j`` is centred at input ``2j + 1.5``, then a 2x2 max-pool, so
frame ``t`` is centred at ``4t + 2.5``. The ``seed`` (reference) design has two stride-2 3x3
convolutions, centring column ``j`` at ``4j + 3.5``. Unknown architectures are taken to
have evenly spaced frames centred in their columns.

A character's box spans its first to last emitting frame, ``stride`` wide around each
centre, mapped to the original image through the resize (``keep_ratio`` pads on the right,
so only ``content_width`` columns hold the image; a long crop read wider has its own width;
a tall crop read turned maps to the turned image).

One correction uses the image: a BiLSTM CTC model trained on tightly cropped words tends to
emit the first character at frame 0 whatever margin lies before it. Boxes are trimmed to the
text's ink (first to last column that differs clearly from the background), and a character
whose emitting frames hold (almost) no ink is placed on the ink between its neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .config import RecognizerConfig
from .preprocessing import Preprocessed, median_rows

#: A column holds ink when it differs from the background by at least this many gray levels...
INK_MIN_CONTRAST = 24.0
#: ... and by at least this share of the image's strongest column contrast.
INK_RELATIVE_CONTRAST = 0.25


@dataclass(frozen=True)
class FrameGeometry:
    """Frame ``t`` of an output with ``columns`` steps per row is centred at
    ``offset + stride * (t % columns)`` model-input pixels."""

    stride: float
    offset: float
    columns: int

    @classmethod
    def for_model(cls, config: RecognizerConfig, input_width: int, steps: int) -> "FrameGeometry":
        """The geometry of ``config.architecture`` read at ``input_width`` with ``steps`` frames."""
        columns = config.time_columns or steps
        stride = input_width / columns
        if config.architecture in ("crnn", "crnn_small") and stride == 4:
            offset = 2.5   # stride-2 conv ("same", no left pad) -> 2j + 1.5; max-pool 2 -> 4t + 2.5
        elif config.architecture == "seed" and stride == 4:
            offset = 3.5   # two stride-2 3x3 "same" convs: 2(2j + 1) + 1.5
        else:
            offset = stride / 2
        return cls(float(stride), float(offset), int(columns))

    def centres(self, steps: np.ndarray) -> np.ndarray:
        """Centre x (model pixels) of each frame index."""
        return self.offset + self.stride * (np.asarray(steps) % self.columns)


def ink_columns(image: np.ndarray, content_width: int) -> np.ndarray:
    """Boolean ``(content_width,)``: which columns of a model-ready ``(H, W, C)`` uint8
    image hold something that differs clearly from its background (the median border gray)."""
    content = image[:, :content_width]
    if content.ndim == 3 and content.shape[2] == 3:
        gray = cv2.cvtColor(np.ascontiguousarray(content), cv2.COLOR_RGB2GRAY)
    else:
        gray = content.reshape(content.shape[0], content.shape[1], -1)[:, :, 0]
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    contrast = np.abs(gray.astype(np.int16) - int(median_rows(border))).max(axis=0)
    strongest = float(contrast.max()) if contrast.size else 0.0
    return contrast >= max(INK_MIN_CONTRAST, INK_RELATIVE_CONTRAST * strongest)


def model_boxes(spans: np.ndarray, geometry: FrameGeometry, content_width: int,
                ink: np.ndarray | None = None, text: str | None = None) -> np.ndarray:
    """``(L, 2)`` frame spans (first, last emitting step) -> ``(L, 2)`` x-ranges in model pixels.

    ``ink`` (from :func:`ink_columns`) trims boxes to the text's ink (its first to last ink
    column) and moves a character whose emitting frames hold (almost) no ink onto the ink
    between its neighbours' boxes; whitespace characters in ``text`` stay put.
    """
    spans = np.asarray(spans).reshape(-1, 2)
    a, b = geometry.centres(spans[:, 0]), geometry.centres(spans[:, 1])
    half = geometry.stride / 2
    boxes = np.stack([np.minimum(a, b) - half, np.maximum(a, b) + half], axis=1)
    boxes = np.clip(boxes, 0, content_width)
    # a frame read in the right padding still gets a box: the last half stride of the content
    boxes[:, 0] = np.minimum(boxes[:, 0], np.maximum(boxes[:, 1] - half, 0))
    if ink is None or not ink.any() or len(boxes) == 0:
        return boxes
    inked = np.flatnonzero(ink)
    first, last = float(inked[0]), float(inked[-1] + 1)
    least = max(1, int(np.ceil(geometry.stride / 2)))  # ink columns a real emission covers
    counts = np.r_[0, np.cumsum(ink)].tolist()
    n = len(ink)
    # plain Python from here: a word has a handful of characters, numpy calls cost more
    raw = boxes.tolist()
    fixed = [list(box) for box in raw]
    moved = []
    for k, (x0, x1) in enumerate(raw):
        if text is not None and k < len(text) and text[k].isspace():
            continue
        lo, hi = max(x0, first), min(x1, last)
        start = min(max(math.floor(lo), 0), n)
        stop = min(max(math.ceil(hi), start), n)
        if hi > lo and counts[stop] - counts[start] >= least:
            fixed[k] = [lo, hi]  # trimmed to the text's ink: no box reaches into the margins
        else:
            moved.append(k)
    for k in moved:
        # emitted where there is (almost) no ink: the ink between the neighbours' boxes
        left = max(fixed[k - 1][1] if k else 0.0, first)
        right = min(raw[k + 1][0] if k + 1 < len(raw) else float(content_width), last)
        cols = np.flatnonzero(ink[math.floor(left):math.ceil(right)]) + math.floor(left)
        if cols.size:
            fixed[k] = [max(left, float(cols[0])), min(right, float(cols[-1] + 1))]
    return np.array(fixed, dtype=np.float64).reshape(-1, 2)


def char_boxes(spans: np.ndarray, steps: int, prepped: Preprocessed, config: RecognizerConfig,
               text: str | None = None) -> np.ndarray:
    """``(L, 2)`` character x-ranges in the image that was read (the original, or the turned
    original for vertical text), from the ``(L, 2)`` emitting-frame spans of an output of
    ``steps`` frames."""
    geometry = FrameGeometry.for_model(config, prepped.image.shape[1], steps)
    ink = ink_columns(prepped.image, prepped.content_width)
    boxes = model_boxes(spans, geometry, prepped.content_width, ink, text)
    return prepped.model_x_to_original(boxes)

"""PaddleOCR text recognizers (PP-OCRv6 tiny / small, PP-OCRv4) read as their own pipelines
do, on ONNX Runtime, from the files ``scripts/fetch_peer_models.py`` caches.

Pre-processing follows PaddleOCR's ``resize_norm_img``: BGR, height 48, width ``48 x`` the
widest aspect ratio of the batch but at least ``base_width`` (tiny 160, small and v4 320),
each crop resized to keep its ratio and padded right, ``(x / 255 - 0.5) / 0.5``. Output:
``(N, W / 8, classes)`` softmax, blank at 0, the characters from 1, space last; best-path
decoding. Crops are batched in order of aspect ratio, as PaddleOCR does.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from fetch_peer_models import DEFAULT_DIR, PEERS  # noqa: E402

#: engine name -> (cached model folder, PaddleOCR's base input width)
BASE_WIDTH = {"ppocrv6-tiny": 160, "ppocrv6-small": 320, "ppocrv4": 320}
HEIGHT = 48


def load_charset(folder: Path, session: ort.InferenceSession) -> list[str]:
    """Class index -> character: blank, the model's characters, space."""
    meta = session.get_modelmeta().custom_metadata_map
    if "character" in meta:
        chars = meta["character"].splitlines()
    else:
        chars = (folder / "dict.txt").read_text(encoding="utf-8").splitlines()
    return ["", *chars, " "]


def paddle_batch(images_rgb: list[np.ndarray], base_width: int) -> np.ndarray:
    """RGB uint8 crops -> one (N, 3, 48, W) float32 batch, PaddleOCR style."""
    ratios = [img.shape[1] / max(img.shape[0], 1) for img in images_rgb]
    width = max(base_width, int(math.ceil(HEIGHT * max(ratios))))
    out = np.zeros((len(images_rgb), 3, HEIGHT, width), np.float32)
    for i, (img, r) in enumerate(zip(images_rgb, ratios)):
        w = min(width, max(1, int(math.ceil(HEIGHT * r))))
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        x = cv2.resize(bgr, (w, HEIGHT)).astype(np.float32)
        out[i, :, :, :w] = ((x / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return out


def best_path(probs: np.ndarray, charset: list[str]) -> list[str]:
    """(N, T, C) softmax -> texts: argmax, drop repeats, drop blanks (class 0)."""
    idx = probs.argmax(-1)
    keep = np.ones_like(idx, bool)
    keep[:, 1:] = idx[:, 1:] != idx[:, :-1]
    keep &= idx != 0
    return ["".join(charset[c] for c in row[k]) for row, k in zip(idx, keep)]


class PaddleRecEngine:
    """One PaddleOCR recognizer; ``read`` takes RGB uint8 crops (any size), returns texts."""

    def __init__(self, name: str, root: Path | None = None, threads: int | None = None):
        if name not in PEERS:
            raise ValueError(f"unknown peer model {name!r}; known: {', '.join(PEERS)}")
        folder = Path(root or DEFAULT_DIR) / name
        model = folder / "rec.onnx"
        if not model.is_file():
            raise RuntimeError(f"{name} is not cached in {folder}: run python scripts/fetch_peer_models.py")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.name = name
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.charset = load_charset(folder, self.session)
        self.base_width = BASE_WIDTH[name]

    def probs(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]

    def read(self, images, batch_size: int = 64) -> list[str]:
        order = sorted(range(len(images)), key=lambda i: images[i].shape[1] / max(images[i].shape[0], 1))
        texts: list[str] = [""] * len(images)
        for s in range(0, len(order), batch_size):
            chunk = order[s:s + batch_size]
            batch = paddle_batch([images[i] for i in chunk], self.base_width)
            for i, t in zip(chunk, best_path(self.probs(batch), self.charset)):
                texts[i] = t.strip()
        return texts

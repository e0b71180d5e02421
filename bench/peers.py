"""PaddleOCR text recognizers (PP-OCRv6 tiny / small, PP-OCRv4) read as their own pipelines
do, on ONNX Runtime, from the files ``scripts/fetch_peer_models.py`` caches. The reading
itself (PaddleOCR's pre-processing and best-path decoding) is :mod:`training.teacher`'s,
which training also uses for ``--teacher``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fetch_peer_models import DEFAULT_DIR, PEERS  # noqa: E402
from training.teacher import BASE_WIDTH, HEIGHT, PaddleRecognizer  # noqa: E402,F401


class PaddleRecEngine(PaddleRecognizer):
    """One cached peer by name; ``read`` takes RGB uint8 crops (any size), returns texts."""

    def __init__(self, name: str, root: Path | None = None, threads: int | None = None):
        if name not in PEERS:
            raise ValueError(f"unknown peer model {name!r}; known: {', '.join(PEERS)}")
        folder = Path(root or DEFAULT_DIR) / name
        if not (folder / "rec.onnx").is_file():
            raise RuntimeError(f"{name} is not cached in {folder}: run python scripts/fetch_peer_models.py")
        super().__init__(folder, base_width=BASE_WIDTH[name], threads=threads)

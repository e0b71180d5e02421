"""Render the demo's example images into examples/ (committed; rerun to regenerate).

    python scripts/make_examples.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.synth import discover_fonts  # noqa: E402

# (file name, text, preferred font family (held-out fonts first), size, fg, bg, hard)
EXAMPLES = [
    ("01_serif_word.png", "Library", "EB Garamond", 44, (20, 20, 20), (250, 248, 240), False),
    ("02_sans_caps.png", "EXIT", "Roboto", 48, (255, 255, 255), (200, 30, 40), False),
    ("03_digits.png", "2025", "Carlito", 46, (10, 40, 120), (235, 240, 255), False),
    ("04_mixed_case.png", "iPhone", "Roboto", 42, (30, 30, 30), (255, 255, 255), False),
    ("05_light_on_dark.png", "Coffee", "Carlito", 44, (250, 220, 120), (40, 30, 25), False),
    ("06_price.png", "$12.99", "EB Garamond", 44, (0, 90, 0), (255, 255, 230), False),
    ("07_hard_blurred_tilted.png", "Station", "Roboto", 40, (90, 90, 90), (150, 150, 140), True),
]


def font_for(family: str, size: int) -> ImageFont.FreeTypeFont:
    fonts = [f for split in ("test", "val", "train") for f in discover_fonts()[split]]
    for f in fonts:
        if f.family == family and "Italic" not in f.path and "Bold" not in f.path:
            return ImageFont.truetype(f.path, size)
    return ImageFont.truetype(fonts[0].path, size)


def render(text, family, size, fg, bg, hard) -> Image.Image:
    font = font_for(family, size)
    l, t, r, b = font.getbbox(text)
    pad = size // 4
    img = Image.new("RGB", (r - l + 2 * pad, b - t + 2 * pad), bg)
    ImageDraw.Draw(img).text((pad - l, pad - t), text, font=font, fill=fg)
    if hard:
        img = img.rotate(4, resample=Image.BICUBIC, expand=True, fillcolor=bg).filter(ImageFilter.GaussianBlur(1.2))
        arr = np.asarray(img).astype(np.float32)
        arr += np.random.default_rng(0).normal(0, 10, arr.shape)
        ok, enc = cv2.imencode(".jpg", np.clip(arr, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 35])
        img = Image.fromarray(cv2.imdecode(enc, cv2.IMREAD_UNCHANGED))
    return img


def main() -> None:
    out = ROOT / "examples"
    out.mkdir(exist_ok=True)
    lines = []
    for name, text, family, size, fg, bg, hard in EXAMPLES:
        render(text, family, size, fg, bg, hard).save(out / name)
        lines.append(f"{name}\t{text}")
    (out / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(EXAMPLES)} examples to {out}")


if __name__ == "__main__":
    main()

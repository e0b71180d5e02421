"""Fonts for the synthetic generator: discovery, the caps-form and symbol filters, the stable
train / val / test split by family, and the keys mining tables name font files by.

Fonts are looked for in :data:`FONT_DIRS`, or in the folders named by the
``CTC_RECOGNIZER_FONT_DIRS`` environment variable (``os.pathsep``-separated), e.g. a folder of
fonts unpacked from Debian packages without installing them.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ctc_recognizer.charset import ALPHANUMERIC

logger = logging.getLogger(__name__)

#: Where fonts are looked for. Debian installs TeX's OpenType fonts (``fonts-texgyre``: Pagella,
#: Bonum, Schola, Termes, Heros, ...) under texmf, outside fontconfig's /usr/share/fonts.
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
             "/usr/share/texmf/fonts/opentype")
FONT_DIRS_ENV = "CTC_RECOGNIZER_FONT_DIRS"
SPLITS = ("train", "val", "test")


def font_dirs() -> tuple[str, ...]:
    """The font folders in use: ``$CTC_RECOGNIZER_FONT_DIRS`` if set, else :data:`FONT_DIRS`."""
    env = os.environ.get(FONT_DIRS_ENV, "")
    return tuple(d for d in env.split(os.pathsep) if d) or FONT_DIRS


def font_key(path: str) -> str:
    """A font file's name in mining tables: its path below the font folder it was found in
    (``truetype/dejavu/DejaVuSans.ttf``), the same on every machine that installs it the same
    way; two files of one name in different folders stay apart. Else the file name."""
    p = os.path.abspath(os.path.expanduser(path))
    for d in font_dirs():
        root = os.path.abspath(os.path.expanduser(d))
        if p.startswith(root + os.sep):
            return os.path.relpath(p, root).replace(os.sep, "/")
    return Path(p).name


def hard_font_weight(table: Mapping[str, float], path: str) -> float:
    """The weight of font file ``path`` in a mining table keyed by :func:`font_key` (or, in
    tables before 2026-11-27 such as ``experiments/font_weights/stage13_train.json``, by file
    name, where files of one name in several folders share one entry); 0 if absent."""
    key = font_key(path)
    return float(table[key]) if key in table else float(table.get(Path(path).name, 0.0))


@dataclass(frozen=True)
class FontInfo:
    path: str
    family: str


#: Families that map Latin code points to symbols, key caps or other scripts: their "text"
#: would not look like its label, so they are never used.
EXCLUDED_FAMILIES = re.compile(r"symbol|dingbat|d050000l|keyboard|nushu|emoji|icon|awesome|braille|stix ?math", re.I)


def caps_form_lowercase(path: str) -> bool:
    """True for all-caps and small-caps fonts, whose lower-case letters are drawn as capitals:
    words rendered in them would teach the model that capitals read as lower case.

    Each of a few letters whose lower- and upper-case shapes differ in ordinary fonts is drawn
    in both cases, cropped to its ink and resized to 16x16; the mean difference relative to the
    ink is below 0.36 for caps-form fonts (Bebas Neue, Go Smallcaps, ADF Titling/Style) and above
    0.42 for every ordinary font, thin or black, on a Debian font collection.

    Hand-drawn all-caps fonts (Humor Sans) draw each case with its own jitter, so their shapes
    differ; they are caught by height instead: the median height of letters without ascenders
    or descenders (a, c, e, m, ...) over that of their capitals is 0.47-0.83 for the ordinary
    fonts of that collection (x-height over cap height) and 1.02 for Humor Sans."""
    font = ImageFont.truetype(path, 48)

    def height(chars: str) -> float:
        return float(np.median([bottom - top for _, top, _, bottom in map(font.getbbox, chars)]))

    if height("acemnorsuvwxz") > 0.92 * max(1.0, height("ACEMNORSUVWXZ")):
        return True

    def glyph(ch: str) -> np.ndarray:
        left, top, right, bottom = font.getbbox(ch)
        im = Image.new("L", (max(1, right - left) + 4, max(1, bottom - top) + 4), 0)
        ImageDraw.Draw(im).text((2 - left, 2 - top), ch, font=font, fill=255)
        a = np.asarray(im)
        ys, xs = np.nonzero(a > 64)
        if len(xs) == 0:
            return np.zeros((16, 16), np.float32)
        a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        return np.asarray(Image.fromarray(a).resize((16, 16), Image.BILINEAR), np.float32) / 255

    scores = []
    for ch in "abdeghnqrty":
        lo, up = glyph(ch), glyph(ch.upper())
        scores.append(np.abs(lo - up).mean() / max(1e-3, float((lo + up).mean() / 2)))
    return float(np.mean(scores)) < 0.38


def font_family(path: str) -> str | None:
    """Family name of a text font that covers all alphanumerics and draws lower case as lower
    case, else None."""
    try:
        from fontTools.ttLib import TTFont

        font = TTFont(path, lazy=True, fontNumber=0)
        cmap = font.getBestCmap() or {}
        if not all(ord(c) in cmap for c in ALPHANUMERIC):
            return None
        names = font["name"]
        family = names.getDebugName(16) or names.getDebugName(1) or Path(path).stem
        if EXCLUDED_FAMILIES.search(family) or caps_form_lowercase(path):
            return None
        return family
    except Exception:  # noqa: BLE001 - any unreadable font file is simply not used
        return None


def split_of(family: str) -> str:
    """Stable split of a font family: ~12% val, ~12% test, the rest train."""
    h = int(hashlib.sha1(family.lower().encode()).hexdigest(), 16) % 100
    return "val" if h < 12 else "test" if h < 24 else "train"


def discover_fonts(dirs: tuple[str, ...] | None = None) -> dict[str, tuple[FontInfo, ...]]:
    """All usable Latin fonts in ``dirs`` (default: :func:`font_dirs`), split by family into
    train / val / test."""
    return _discover_fonts(tuple(dirs) if dirs else font_dirs())


@functools.lru_cache(maxsize=None)
def _discover_fonts(dirs: tuple[str, ...]) -> dict[str, tuple[FontInfo, ...]]:
    paths: list[str] = []
    for d in dirs:
        d = os.path.expanduser(d)
        for ext in ("ttf", "otf", "TTF", "OTF"):
            paths += glob.glob(os.path.join(d, "**", f"*.{ext}"), recursive=True)
    fonts: dict[str, list[FontInfo]] = {s: [] for s in SPLITS}
    for path in sorted(set(paths)):
        family = font_family(path)
        if family:
            fonts[split_of(family)].append(FontInfo(path, family))
    if not any(fonts.values()):
        raise RuntimeError(
            "no usable TrueType/OpenType fonts found in " + ", ".join(dirs)
            + "; install some with scripts/install_system_deps.sh"
        )
    # Tiny font sets (e.g. a minimal CI machine): make sure every split has something.
    for split in SPLITS:
        if not fonts[split]:
            donor = max(fonts, key=lambda s: len(fonts[s]))
            fonts[split] = [fonts[donor][-1]] if len(fonts[donor]) < 2 else [fonts[donor].pop()]
            logger.warning("font split %r was empty; borrowed %s", split, fonts[split][0].family)
    return {s: tuple(v) for s, v in fonts.items()}


# ---------------------------------------------------------------------------- mining tables
#: A font misread in more than this share of its mined words weighs as if misread in exactly
#: this share: such fonts are mostly illegible at 32 px (pixel fonts) or draw lower case as
#: capitals (unicase, decorative caps), and uncapped they would take over the hard share.
MAX_ERROR_SHARE = 0.25


def load_hard_fonts(path: str | os.PathLike) -> dict[str, float]:
    """``{font file name: weight}`` from a mining table: the words misread, capped at
    :data:`MAX_ERROR_SHARE` of the words mined; clear errors for a bad file."""
    p = Path(path)
    if not p.is_file():
        raise SystemExit(f"--synth-hard-fonts: no such file: {p} (make one with `python -m training.mine_fonts`)")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        fonts = data["fonts"]
        table = {str(name): min(float(entry["errors"]), MAX_ERROR_SHARE * float(entry["words"]))
                 for name, entry in fonts.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise SystemExit(f"--synth-hard-fonts: {p} is not a mining table from training.mine_fonts "
                         f"(needs {{'fonts': {{name: {{'errors': n, 'words': n}}}}}}): {e}") from None
    if data.get("split", "train") != "train":
        raise SystemExit(f"--synth-hard-fonts: {p} was mined on the {data['split']!r} fonts; only a table of the "
                         "training fonts may steer training (held-out fonts would leak)")
    if not table or any(not math.isfinite(v) or v < 0 for v in table.values()):
        raise SystemExit(f"--synth-hard-fonts: {p} has no fonts, or error counts that are negative or not numbers")
    return table

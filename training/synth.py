"""Synthetic word images: many fonts, sizes, colours, backgrounds and degradations.

``WordRenderer(split="train"|"val"|"test", seed=...)`` renders sample ``i`` deterministically
(the same ``seed`` and ``i`` always give the same image and text). Font *families* are split
into train / val / test by a stable hash of the family name, so validation and test numbers
are measured on fonts the model never trained on.

Fonts come from the system (``scripts/install_system_deps.sh`` installs many Debian font
packages); word lists from ``/usr/share/dict`` plus random strings, numbers and punctuation.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import logging
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ctc_recognizer.charset import ALPHANUMERIC, DEFAULT_VOCAB

logger = logging.getLogger(__name__)

#: Where fonts are looked for. Debian installs TeX's OpenType fonts (``fonts-texgyre``: Pagella,
#: Bonum, Schola, Termes, Heros, ...) under texmf, outside fontconfig's /usr/share/fonts.
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
             "/usr/share/texmf/fonts/opentype")
WORDLISTS = ("/usr/share/dict/words", "/usr/share/dict/american-english", "/usr/share/dict/british-english")
SPLITS = ("train", "val", "test")


def font_key(path: str) -> str:
    """A font file's name in mining tables: its path below the font folder it was found in
    (``truetype/dejavu/DejaVuSans.ttf``), the same on every machine that installs it the same
    way; two files of one name in different folders stay apart. Else the file name."""
    p = os.path.abspath(os.path.expanduser(path))
    for d in FONT_DIRS:
        root = os.path.abspath(os.path.expanduser(d))
        if p.startswith(root + os.sep):
            return os.path.relpath(p, root).replace(os.sep, "/")
    return Path(p).name


def hard_font_weight(table: Mapping[str, float], path: str) -> float:
    """The weight of font file ``path`` in a mining table keyed by :func:`font_key` (or, in
    tables before 2026-11-27 such as ``training/font_weights/stage13_train.json``, by file
    name, where files of one name in several folders share one entry); 0 if absent."""
    key = font_key(path)
    return float(table[key]) if key in table else float(table.get(Path(path).name, 0.0))
_FALLBACK_WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from or one "
    "had by word but not what all were we when your can said there use an each which she do how their "
    "if will up other about out many then them these so some her would make like him into time has look "
    "two more write go see number no way could people my than first water been call who oil its now find "
    "long down day did get come made may part OPEN EXIT STOP Hotel Coffee Street Road Avenue Station"
).split()


@dataclass(frozen=True)
class FontInfo:
    path: str
    family: str


#: Families that map Latin code points to symbols, key caps or other scripts: their "text"
#: would not look like its label, so they are never used.
EXCLUDED_FAMILIES = re.compile(r"symbol|dingbat|d050000l|keyboard|nushu|emoji|icon|awesome|braille|stix ?math", re.I)


def _caps_form_lowercase(path: str) -> bool:
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


def _font_family(path: str) -> str | None:
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
        if EXCLUDED_FAMILIES.search(family) or _caps_form_lowercase(path):
            return None
        return family
    except Exception:  # noqa: BLE001 - any unreadable font file is simply not used
        return None


def _split_of(family: str) -> str:
    """Stable split of a font family: ~12% val, ~12% test, the rest train."""
    h = int(hashlib.sha1(family.lower().encode()).hexdigest(), 16) % 100
    return "val" if h < 12 else "test" if h < 24 else "train"


@functools.lru_cache(maxsize=None)
def discover_fonts(font_dirs: tuple[str, ...] = FONT_DIRS) -> dict[str, tuple[FontInfo, ...]]:
    """All usable Latin fonts on the machine, split by family into train / val / test."""
    paths: list[str] = []
    for d in font_dirs:
        d = os.path.expanduser(d)
        for ext in ("ttf", "otf", "TTF", "OTF"):
            paths += glob.glob(os.path.join(d, "**", f"*.{ext}"), recursive=True)
    fonts: dict[str, list[FontInfo]] = {s: [] for s in SPLITS}
    for path in sorted(set(paths)):
        family = _font_family(path)
        if family:
            fonts[_split_of(family)].append(FontInfo(path, family))
    if not any(fonts.values()):
        raise RuntimeError(
            "no usable TrueType/OpenType fonts found in " + ", ".join(font_dirs)
            + "; install some with scripts/install_system_deps.sh"
        )
    # Tiny font sets (e.g. a minimal CI machine): make sure every split has something.
    for split in SPLITS:
        if not fonts[split]:
            donor = max(fonts, key=lambda s: len(fonts[s]))
            fonts[split] = [fonts[donor][-1]] if len(fonts[donor]) < 2 else [fonts[donor].pop()]
            logger.warning("font split %r was empty; borrowed %s", split, fonts[split][0].family)
    return {s: tuple(v) for s, v in fonts.items()}


@functools.lru_cache(maxsize=4)
def load_words(paths: tuple[str, ...] = WORDLISTS, max_len: int = 16) -> tuple[str, ...]:
    words: set[str] = set()
    for p in paths:
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="ignore") as f:
                for line in f:
                    w = line.strip().replace("'s", "")
                    if 1 <= len(w) <= max_len and all(c in ALPHANUMERIC for c in w):
                        words.add(w)
    if not words:
        logger.warning("no word list in %s; using a small built-in list (install wamerican)", paths)
        words = set(_FALLBACK_WORDS)
    return tuple(sorted(words))


class WordRenderer:
    """Renders ``(image, text)`` pairs; ``image`` is RGB uint8 at its natural size.

    Args:
        split: which font families to use (``"train"``, ``"val"`` or ``"test"``).
        seed: base seed; sample ``i`` uses ``seed`` and ``i`` only.
        vocab: characters the text may use (characters outside it are never generated).
        augment: apply degradations (blur, noise, perspective, JPEG...). ``False`` renders
            clean text on plain backgrounds (useful for tests).
        max_len: longest text generated.
        backgrounds: image files (real photo crops) whose blurred colours and lighting serve as
            backgrounds for some of the words (augmented renders only).
        font_sampling: ``"family"`` (default) draws a font family uniformly, then one of its
            files, so a family shipped in 38 weights and widths is not 38 times as frequent as
            a family with one file; ``"file"`` draws font files uniformly (renders up to v4).
        text: ``"mixed"`` (default): dictionary words in lower / Title / UPPER case, numbers,
            random codes, words with punctuation and two-word lines; ``"words"``: dictionary
            words only (in those cases).
        hard_fonts: font key (:func:`font_key`) -> weight, e.g. the errors a model made
            on each font (``python -m training.mine_fonts``). With ``hard_font_share`` > 0, that
            share of the samples draws its font file in proportion to ``weight + 0.5`` (font
            files of this split missing from the table weigh 0.5; the +0.5 keeps every file
            drawable, and spreads part of the share evenly: 43% of it with stage 13's table of
            1,911 files, 474 of them misread); the rest draws as ``font_sampling`` says.
            Hard-example mining at the font level.
        hard_font_share: share of samples drawn from ``hard_fonts`` (0 to 1).
        shape_jitter: share of samples (clean or augmented) whose glyphs are reshaped before
            anything else: a smooth random displacement field of about 1-3% of the font size
            (an elastic distortion that bends stems, bowls and terminals a little) and, for
            some, a bolder or lighter stroke. Every training font then stands for many nearby
            designs; benchmark renders keep the default 0 (the fonts as drawn).
    """

    def __init__(self, split: str = "train", seed: int = 0, vocab: str = DEFAULT_VOCAB,
                 augment: bool = True, max_len: int = 20, words: Sequence[str] | None = None,
                 fonts: Sequence[str] | None = None, backgrounds: Sequence[str | os.PathLike] | None = None,
                 font_sampling: str = "family", text: str = "mixed",
                 hard_fonts: Mapping[str, float] | None = None, hard_font_share: float = 0.0,
                 shape_jitter: float = 0.0):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if font_sampling not in ("family", "file"):
            raise ValueError(f"font_sampling must be 'family' or 'file', got {font_sampling!r}")
        if text not in ("mixed", "words"):
            raise ValueError(f"text must be 'mixed' or 'words', got {text!r}")
        if not 0.0 <= hard_font_share <= 1.0:
            raise ValueError(f"hard_font_share must be between 0 and 1, got {hard_font_share!r}")
        if hard_font_share > 0 and not hard_fonts:
            raise ValueError("hard_font_share > 0 needs a hard_fonts table (font file name -> weight)")
        if not 0.0 <= shape_jitter <= 1.0:
            raise ValueError(f"shape_jitter must be between 0 and 1, got {shape_jitter!r}")
        self.shape_jitter = float(shape_jitter)
        self.split, self.seed, self.vocab, self.augment, self.max_len = split, seed, vocab, augment, max_len
        self.font_sampling, self.text_kind = font_sampling, text
        infos = [FontInfo(p, p) for p in fonts] if fonts else list(discover_fonts()[split])
        if not infos:
            raise RuntimeError(f"no fonts for split {split!r}")
        self.hard_font_share = float(hard_font_share) if hard_fonts else 0.0
        self._hard_cdf: np.ndarray | None = None
        if self.hard_font_share > 0:
            w = np.array([max(0.0, hard_font_weight(hard_fonts, f.path)) + 0.5 for f in infos])
            self._hard_cdf = np.cumsum(w / w.sum())
        groups: dict[str, list[str]] = {}
        for f in infos:
            groups.setdefault(f.family, []).append(f.path)
        self.font_paths = [f.path for f in infos]
        self.font_families = [groups[k] for k in sorted(groups)]
        self.words = tuple(words) if words else load_words()
        self.punct = [c for c in "!\"#$%&'()*+,-./:;<=>?@[\\]_" if c in vocab]
        self.has_space = " " in vocab
        self.has_lower = any(c.islower() for c in vocab)
        self.has_upper = any(c.isupper() for c in vocab)
        self._font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        self.backgrounds = [str(b) for b in backgrounds] if backgrounds else []
        self._bg_cache: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ text
    def _case(self, w: str, rng: np.random.Generator) -> str:
        r = rng.random()
        if r < 0.4:
            w = w.lower()
        elif r < 0.7:
            w = w[:1].upper() + w[1:].lower()
        elif r < 0.9:
            w = w.upper()
        return w

    def random_text(self, rng: np.random.Generator) -> str:
        r = 0.0 if self.text_kind == "words" else rng.random()
        if r < 0.55:
            text = self._case(self.words[rng.integers(len(self.words))], rng)
        elif r < 0.67:  # numbers: plain, prices, dates, codes
            n = int(rng.integers(1, 9))
            text = "".join(rng.choice(list(string.digits), n))
            if self.punct and rng.random() < 0.5:
                sep = rng.choice([c for c in ".,:/-" if c in self.punct] or self.punct)
                text = text + sep + "".join(rng.choice(list(string.digits), int(rng.integers(1, 4))))
        elif r < 0.80:  # random alphanumeric strings (licence plates, codes, no language prior)
            pool = [c for c in self.vocab if c.isalnum()]
            text = "".join(rng.choice(pool, int(rng.integers(1, 11))))
        elif r < 0.92 and self.punct:  # words with punctuation attached
            w = self._case(self.words[rng.integers(len(self.words))], rng)
            p = str(rng.choice(self.punct))
            k = rng.random()
            text = w + p if k < 0.5 else p + w if k < 0.7 else w[: len(w) // 2] + p + w[len(w) // 2:]
            if p in "([" and rng.random() < 0.7:
                text = p + w + {"(": ")", "[": "]"}[p]
        elif self.has_space:  # short two-word lines
            a, b = (self._case(self.words[rng.integers(len(self.words))], rng) for _ in range(2))
            text = f"{a} {b}"
        else:
            text = self._case(self.words[rng.integers(len(self.words))], rng)
        if not self.has_upper:
            text = text.lower()
        if not self.has_lower:
            text = text.upper()
        text = "".join(c for c in text if c in self.vocab).strip()
        text = text[: self.max_len].strip()
        return text or str(rng.choice([c for c in self.vocab if c.isalnum()] or list(self.vocab)))

    def pick_font(self, rng: np.random.Generator) -> str:
        if self._hard_cdf is not None and rng.random() < self.hard_font_share:
            k = int(np.searchsorted(self._hard_cdf, rng.random() * self._hard_cdf[-1], side="right"))
            return self.font_paths[min(k, len(self.font_paths) - 1)]
        if self.font_sampling == "file":
            return self.font_paths[rng.integers(len(self.font_paths))]
        family = self.font_families[rng.integers(len(self.font_families))]
        return family[rng.integers(len(family))]

    # ------------------------------------------------------------------ image
    def _font(self, path: str, size: int) -> ImageFont.FreeTypeFont:
        key = (path, size)
        if key not in self._font_cache:
            if len(self._font_cache) > 2000:
                self._font_cache.clear()
            self._font_cache[key] = ImageFont.truetype(path, size)
        return self._font_cache[key]

    @staticmethod
    def _background(h: int, w: int, rng: np.random.Generator, photo: np.ndarray | None = None) -> np.ndarray:
        kind = rng.random()
        base = rng.integers(0, 256, 3).astype(np.float32)
        if photo is not None:
            # a real crop's colours, lighting and texture, blurred until its own letters are gone
            bg = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
            if rng.random() < 0.5:
                bg = bg[::-1, ::-1]
            bg = cv2.GaussianBlur(bg, (0, 0), max(1.5, h * rng.uniform(0.15, 0.4)))
            bg = bg.reshape(h, w, 3) + rng.normal(0, rng.uniform(2, 10), (h, w, 1)).astype(np.float32)
        elif kind < 0.3:
            bg = np.broadcast_to(base, (h, w, 3)).copy()
        elif kind < 0.6:  # linear gradient
            other = rng.integers(0, 256, 3).astype(np.float32)
            t = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
            t = t[None, :, None] if t.size == w else t[:, None, None]
            bg = np.broadcast_to(base * (1 - t) + other * t, (h, w, 3)).copy()
        else:  # smooth noise texture, sometimes with fine grain on top (paper, concrete, wood)
            cell = int(rng.integers(3, 16))
            small = rng.normal(0, rng.uniform(8, 35), (max(2, h // cell), max(2, w // cell), 1))
            small = small * (1 + rng.normal(0, 0.15, (1, 1, 3)))  # mostly luminance, a little colour
            bg = base + cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
            if rng.random() < 0.4:
                grain = rng.normal(0, rng.uniform(3, 12), (h, w, 1)).astype(np.float32)
                if rng.random() < 0.5:  # streaks
                    grain = cv2.GaussianBlur(grain, (0, 0), sigmaX=rng.uniform(2, 6), sigmaY=0.5)[..., None]
                bg = bg + grain
        return bg

    def render(self, i: int) -> tuple[np.ndarray, str]:
        """Sample ``i``: ``(RGB uint8 (h, w, 3), text)``."""
        rng = np.random.default_rng([self.seed, i, SPLITS.index(self.split)])
        text = self.random_text(rng)
        font_path = self.pick_font(rng)
        size = int(rng.integers(22, 56))
        font = self._font(font_path, size)
        if not self.augment:
            return self._render_clean(text, font, size, rng), text
        # text effects: thick strokes, outlines in another colour
        stroke = int(rng.integers(1, 3)) if rng.random() < 0.08 else 0
        outline = int(rng.integers(1, max(2, size // 12) + 1)) if rng.random() < 0.1 else 0
        # neighbouring text around the word: a detector's crop often cuts into it
        pre = post = ""
        if rng.random() < 0.15:
            pool = [c for c in self.vocab if c.isalnum()]
            pre = "".join(rng.choice(pool, int(rng.integers(1, 4)))) + (" " if rng.random() < 0.6 else "")
            post = (" " if rng.random() < 0.6 else "") + "".join(rng.choice(pool, int(rng.integers(1, 4))))
        full = pre + text + post
        pad = size // 2 + outline
        left, top, right, bottom = font.getbbox(full, stroke_width=stroke + outline)
        W, H = max(1, right - left) + 2 * pad, max(1, bottom - top) + 2 * pad
        origin = (pad - left, pad - top)
        layers = []
        for width in ([stroke + outline] if outline else []) + [stroke]:
            mask = Image.new("L", (W, H), 0)
            ImageDraw.Draw(mask).text(origin, full, font=font, fill=255, stroke_width=width)
            layers.append(np.asarray(mask, dtype=np.float32) / 255.0)
        m = np.stack(layers, axis=-1)  # (H, W, 1 or 2): [outline,] fill
        if self.shape_jitter > 0 and rng.random() < self.shape_jitter:
            m = self._reshape(m, size, rng)
        if pre or post:  # keep the word and only slivers of its neighbours
            x_start = origin[0] + font.getlength(pre)
            x_end = origin[0] + font.getlength(pre + text)
            cut = rng.uniform(0.0, 0.3, 2) * size
            a, b = int(max(0, x_start - cut[0])), int(min(W, x_end + cut[1] + 1))
            m = m[:, a:max(a + 1, b)]
        m = self._geometric(m, rng)
        if rng.random() < 0.12:
            m = self._curve(m, rng)
        ink = m.max(axis=-1)
        ys, xs = np.nonzero(ink > 0.1)
        if len(xs) == 0:
            ys, xs = np.array([0, m.shape[0] - 1]), np.array([0, m.shape[1] - 1])
        # crop around the ink with margins from tight to loose, like real detector crops
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        ink_h = y1 - y0
        mt, mb = (rng.uniform(-0.04, 0.35, 2) * ink_h).astype(int)  # < 0: cut into the letters a little
        ml, mr = (rng.uniform(0.0, 0.5, 2) * ink_h).astype(int)
        y0, y1 = max(0, y0 - mt), min(m.shape[0], y1 + mb)
        x0, x1 = max(0, x0 - ml), min(m.shape[1], x1 + mr)
        m = m[y0:max(y0 + 2, y1), x0:max(x0 + 2, x1)]
        h, w = m.shape[:2]

        bg = self._background(h, w, rng, self._background_image(rng))
        fg = self._text_colour(bg, rng)
        fill = m[..., -1:]
        if outline:
            oc = self._text_colour(np.broadcast_to(fg, (1, 1, 3)), rng)
            bg = bg * (1 - m[..., :1]) + oc * m[..., :1]
        elif rng.random() < 0.12:  # drop shadow
            dy, dx = (int(v) for v in rng.integers(1, max(2, size // 10) + 1, 2))
            shadow = np.roll(np.roll(fill, dy, 0), dx, 1)
            bg = bg * (1 - rng.uniform(0.3, 0.8) * shadow)
        img = bg * (1 - fill) + fg * fill
        return np.clip(self._degrade(img, rng), 0, 255).astype(np.uint8), text

    def _render_clean(self, text: str, font: ImageFont.FreeTypeFont, size: int,
                      rng: np.random.Generator) -> np.ndarray:
        """Dark text on white with a fixed margin: the clean held-out-font benchmark."""
        left, top, right, bottom = font.getbbox(text)
        pad = size // 2
        W, H = max(1, right - left) + 2 * pad, max(1, bottom - top) + 2 * pad
        mask = Image.new("L", (W, H), 0)
        ImageDraw.Draw(mask).text((pad - left, pad - top), text, font=font, fill=255)
        m = np.asarray(mask, dtype=np.float32) / 255.0
        if self.shape_jitter > 0 and rng.random() < self.shape_jitter:
            m = self._reshape(m[..., None], size, rng)[..., 0]
        ys, xs = np.nonzero(m > 0.1)
        if len(xs) == 0:
            ys, xs = np.array([0, H - 1]), np.array([0, W - 1])
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        margin = max(2, (y1 - y0) // 8)
        y0, y1 = max(0, y0 - margin), min(H, y1 + margin)
        x0, x1 = max(0, x0 - margin), min(W, x1 + margin)
        m = m[y0:y1, x0:x1]
        return np.clip(255.0 * (1 - m[..., None]), 0, 255).astype(np.uint8).repeat(3, axis=-1)

    def _background_image(self, rng: np.random.Generator) -> np.ndarray | None:
        """A real photo crop to borrow a background from (if the renderer was given some)."""
        if not self.backgrounds or rng.random() >= 0.3:
            return None
        path = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        img = self._bg_cache.get(path)
        if img is None:
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is None:
                return None
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            if len(self._bg_cache) < 4000:
                self._bg_cache[path] = img
        return img

    @staticmethod
    def _text_colour(bg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random text colour with enough contrast against ``bg``'s mean."""
        fg = rng.integers(0, 256, 3).astype(np.float32)
        if abs(fg.mean() - bg.mean()) < 70:
            fg = np.where(bg.mean() > 127, rng.uniform(0, 60, 3), rng.uniform(195, 255, 3)).astype(np.float32)
        return fg

    @staticmethod
    def _reshape(m: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        """New glyph shapes from old: ``m`` (H, W, C) text mask of a font at ``size`` px, bent by
        a smooth random displacement field (an elastic distortion with the scale of a stroke or
        a bowl, moving ink by 1-3% of the size), then for 40% of them made bolder or lighter."""
        h, w = m.shape[:2]
        sigma = size * rng.uniform(0.12, 0.25)
        amp = size * rng.uniform(0.01, 0.03)
        fields = []
        for _ in range(2):
            f = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigma)
            fields.append(f * (amp / max(float(f.std()), 1e-6)))
        yy, xx = np.mgrid[:h, :w].astype(np.float32)
        bent = cv2.remap(m, xx + fields[0], yy + fields[1], cv2.INTER_LINEAR, borderValue=0).reshape(m.shape)
        r = rng.random()
        if r >= 0.4:
            return bent
        bold = r < 0.25
        k = 3 if size >= 30 else 2
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        out = (cv2.dilate if bold else cv2.erode)(bent, kernel).reshape(m.shape)
        return bent if not bold and out.max() < 0.5 else out  # a hairline font eroded away: keep it bent

    @staticmethod
    def _curve(m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Bend the text line: a parabola or half a sine wave of up to a third of its height."""
        h, w = m.shape[:2]
        amp = rng.uniform(-0.33, 0.33) * h
        x = np.linspace(-1, 1, w, dtype=np.float32)
        offset = amp * (x ** 2 if rng.random() < 0.5 else np.sin(np.pi * x + rng.uniform(0, np.pi)))
        pad = int(abs(amp)) + 2
        m = cv2.copyMakeBorder(m, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=0)
        if m.ndim == 2:
            m = m[..., None]
        map_x = np.tile(np.arange(w, dtype=np.float32), (h + 2 * pad, 1))
        map_y = np.arange(h + 2 * pad, dtype=np.float32)[:, None] + (offset - offset.mean())[None, :]
        out = cv2.remap(m, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
        return out if out.ndim == 3 else out[..., None]

    @staticmethod
    def _geometric(m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = m.shape[:2]
        r = rng.random()
        if r < 0.45:
            return m
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        jitter = rng.normal(0, 0.04, (4, 2)) * [h * 2, h]
        angle = np.deg2rad(rng.normal(0, 3.0))
        shear = rng.normal(0, 0.15) if rng.random() < 0.4 else 0.0
        c, s = np.cos(angle), np.sin(angle)
        center = np.array([w / 2, h / 2])
        dst = []
        for (x, y), j in zip(src, jitter):
            x = x + shear * (h / 2 - y)
            p = np.array([x, y]) - center
            dst.append(center + [c * p[0] - s * p[1], s * p[0] + c * p[1]] + j)
        dst = np.float32(dst)
        dst -= dst.min(axis=0)
        ow, oh = int(np.ceil(dst[:, 0].max())) + 1, int(np.ceil(dst[:, 1].max())) + 1
        M = cv2.getPerspectiveTransform(src, dst)
        out = cv2.warpPerspective(m, M, (ow, oh), flags=cv2.INTER_LINEAR, borderValue=0)
        return out if out.ndim == m.ndim else out[..., None]

    @staticmethod
    def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = img.shape[:2]
        if rng.random() < 0.35:  # low resolution: downscale then back up
            f = rng.uniform(0.25, 0.8)
            small = cv2.resize(img, (max(2, int(w * f)), max(2, int(h * f))), interpolation=cv2.INTER_AREA)
            img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.35:
            k = rng.uniform(0.3, 1.4)
            img = cv2.GaussianBlur(img, (0, 0), k)
        if rng.random() < 0.15:  # motion blur, in a random direction
            k = int(rng.integers(3, 7))
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1.0 / k
            rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), rng.uniform(-45, 45), 1.0)
            kernel = cv2.warpAffine(kernel, rot, (k, k))
            img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
        elif rng.random() < 0.1:  # defocus: a disk kernel
            r = rng.uniform(1.0, 2.5)
            k = 2 * int(np.ceil(r)) + 1
            yy, xx = np.mgrid[:k, :k] - k // 2
            kernel = (xx ** 2 + yy ** 2 <= r * r).astype(np.float32)
            img = cv2.filter2D(img, -1, kernel / kernel.sum())
        if rng.random() < 0.4:
            img = img + rng.normal(0, rng.uniform(2, 14), img.shape)
        r = rng.random()
        if r < 0.2:  # uneven lighting
            g = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.2), w)[None, :, None]
            img = img * g
        elif r < 0.3:  # a spot light or vignette
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            yy, xx = np.mgrid[:h, :w].astype(np.float32)
            d = np.sqrt(((yy - cy) / h) ** 2 + ((xx - cx) / max(w, h)) ** 2)
            img = img * (rng.uniform(0.55, 0.9) + rng.uniform(0.2, 0.6) * np.exp(-d * d * 4))[..., None]
        elif r < 0.38:  # a hard shadow edge across the word
            yy, xx = np.mgrid[:h, :w].astype(np.float32)
            a = rng.uniform(0, 2 * np.pi)
            side = (xx - rng.uniform(0, w)) * np.cos(a) + (yy - rng.uniform(0, h)) * np.sin(a) > 0
            edge = cv2.GaussianBlur(side.astype(np.float32), (0, 0), rng.uniform(0.5, 3))
            img = img * (1 - rng.uniform(0.25, 0.6) * edge)[..., None]
        if rng.random() < 0.1:
            img = 255.0 - img
        img = np.clip(img, 0, 255).astype(np.uint8)
        if rng.random() < 0.4:
            ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
            if ok:
                img = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)
        return img.astype(np.float32)

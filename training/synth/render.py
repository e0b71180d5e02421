"""The renderer: a :class:`RenderSpec` (what to render) and :class:`WordRenderer` (sample ``i``
of it, deterministically: the same spec and ``i`` always give the same image and text)."""

from __future__ import annotations

import hashlib
import inspect
import json
import multiprocessing as mp
import os
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Mapping

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ctc_recognizer.charset import DEFAULT_VOCAB

from . import effects
from .fonts import SPLITS, FontInfo, discover_fonts, font_key, hard_font_weight
from . import text as _text
from .text import TEXT_KINDS, TextSampler

FONT_SAMPLINGS = ("family", "file")


@dataclass(frozen=True)
class RenderSpec:
    """Everything that decides what a :class:`WordRenderer` draws; validated once, here.

    Args:
        split: which font families to use (``"train"``, ``"val"`` or ``"test"``).
        seed: base seed; sample ``i`` uses ``seed`` and ``i`` only.
        vocab: characters the text may use (characters outside it are never generated).
        augment: apply the effects of :mod:`training.synth.effects` (geometry, backgrounds,
            colours, blur, noise, JPEG...). ``False`` renders clean dark text on white.
        max_len: longest text generated.
        words: the dictionary (default: the system word list, :func:`~training.synth.text.load_words`).
        fonts: font files to use instead of the split's (each file its own family).
        backgrounds: image files (real photo crops) whose blurred colours and lighting serve as
            backgrounds for some of the words (augmented renders only).
        font_sampling: ``"family"`` (default) draws a font family uniformly, then one of its
            files, so a family shipped in 38 weights and widths is not 38 times as frequent as
            a family with one file; ``"file"`` draws font files uniformly (renders up to v4).
        text: ``"mixed"`` (default) or ``"words"`` (:class:`~training.synth.text.TextSampler`).
        hard_fonts: font key (:func:`~training.synth.fonts.font_key`) -> weight, e.g. the errors a
            model made on each font (``python -m training.mine_fonts``). With ``hard_font_share`` >
            0, that share of the samples draws its font file in proportion to ``weight + 0.5``
            (font files of this split missing from the table weigh 0.5; the +0.5 keeps every file
            drawable, and spreads part of the share evenly: 43% of it with stage 13's table of
            1,911 files, 474 of them misread); the rest draws as ``font_sampling`` says.
            Hard-example mining at the font level. Stored as sorted ``(key, weight)`` pairs.
        hard_font_share: share of samples drawn from ``hard_fonts`` (0 to 1).
        shape_jitter: share of samples (clean or augmented) whose glyphs are reshaped before
            anything else (the ``reshape`` effect): every training font then stands for many
            nearby designs; benchmark renders keep the default 0 (the fonts as drawn).
        curved_text: share of samples whose text line is laid on an arc or a circle or
            strongly slanted (the ``shape`` effects: curved signs); 0 for the usual benchmarks.
    """

    split: str = "train"
    seed: int = 0
    vocab: str = DEFAULT_VOCAB
    augment: bool = True
    max_len: int = 20
    words: tuple[str, ...] | None = None
    fonts: tuple[str, ...] | None = None
    backgrounds: tuple[str, ...] = ()
    font_sampling: str = "family"
    text: str = "mixed"
    hard_fonts: tuple[tuple[str, float], ...] = ()
    hard_font_share: float = 0.0
    shape_jitter: float = 0.0
    curved_text: float = 0.0

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.font_sampling not in FONT_SAMPLINGS:
            raise ValueError(f"font_sampling must be 'family' or 'file', got {self.font_sampling!r}")
        if self.text not in TEXT_KINDS:
            raise ValueError(f"text must be 'mixed' or 'words', got {self.text!r}")
        if not self.vocab:
            raise ValueError("vocab must not be empty")
        if not isinstance(self.max_len, int) or self.max_len < 1:
            raise ValueError(f"max_len must be a positive integer, got {self.max_len!r}")
        put("words", tuple(self.words) if self.words else None)
        put("fonts", tuple(str(f) for f in self.fonts) if self.fonts else None)
        put("backgrounds", tuple(str(b) for b in self.backgrounds) if self.backgrounds else ())
        table = self.hard_fonts.items() if isinstance(self.hard_fonts, Mapping) else (self.hard_fonts or ())
        put("hard_fonts", tuple(sorted((str(k), float(v)) for k, v in table)))
        for name in ("hard_font_share", "shape_jitter", "curved_text"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
            put(name, float(value))
        if self.hard_font_share > 0 and not self.hard_fonts:
            raise ValueError("hard_font_share > 0 needs a hard_fonts table (font file name -> weight)")
        if not self.hard_fonts or not self.hard_font_share:  # a table drawn by nothing renders nothing else
            put("hard_fonts", ())
            put("hard_font_share", 0.0)

    def replace(self, **changes) -> "RenderSpec":
        return RenderSpec(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})

    def key(self) -> dict:
        """The spec as JSON-able values, for cache keys: the words drawn from are hashed (the
        system word list as loaded now when ``words`` is None, so installing one is a new
        cache), backgrounds and fonts by full path, size and modification time."""
        d = asdict(self)
        words = self.words or _text.load_words()
        d["words"] = hashlib.sha1("\n".join(words).encode()).hexdigest()
        d["backgrounds"] = files_digest(self.backgrounds)  # in order: the renderer draws by index
        return d


def files_digest(paths) -> str:
    """sha1 over each file's absolute path, size and modification time, in the given order
    (a missing file hashes as missing): files renamed, replaced or edited give another digest."""
    h = hashlib.sha1()
    for p in paths:
        path = os.path.abspath(os.path.expanduser(str(p)))
        try:
            st = os.stat(path)
            h.update(f"{path}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{path}\tmissing\n".encode())
    return h.hexdigest()


def generator_source_hash() -> str:
    """sha1 of the generator's source files (this package and the preprocessing that fits a
    render to the model) and of the effects registered now, in order (stage, name, group,
    probability and the function's source): a cache of renders is stale as soon as any of them
    changes, an effect registered from outside the package included. (Code that such an effect
    calls in other modules is not hashed: change its name or clear the cache when that changes.)"""
    here = Path(__file__).resolve().parent
    files = sorted(here.glob("*.py"))
    import ctc_recognizer.preprocessing as pre

    files.append(Path(pre.__file__))
    h = hashlib.sha1()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    for stage, registered in effects.EFFECTS.items():
        for e in registered:
            p = e.p if isinstance(e.p, (int, float, str)) else _source(e.p)
            h.update(f"{stage}\t{e.name}\t{e.group}\t{e.unless}\t{p}\n{_source(e.fn)}\n".encode())
    return h.hexdigest()


def _source(fn) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # defined interactively: its qualified name is all there is
        return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(type(fn)))}"


def render_cache_key(spec: RenderSpec, **extra) -> str:
    """A hash of the spec, the fonts it draws from, ``extra`` (e.g. the count and model geometry)
    and :func:`generator_source_hash`."""
    fonts = list(spec.fonts) if spec.fonts else [f.path for f in discover_fonts()[spec.split]]
    fonts = [fonts, files_digest(fonts)]  # the files, and their sizes and times (an updated font package)
    payload = json.dumps({"spec": spec.key(), "fonts": fonts, "extra": extra, "source": generator_source_hash()},
                         sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()


class WordRenderer:
    """Renders ``(image, text)`` pairs of a :class:`RenderSpec`; ``image`` is RGB uint8 at its
    natural size."""

    def __init__(self, spec: RenderSpec | None = None):
        spec = RenderSpec() if spec is None else spec
        if not isinstance(spec, RenderSpec):
            raise TypeError(f"WordRenderer takes a RenderSpec, got {type(spec).__name__}")
        self.spec = spec
        infos = [FontInfo(p, p) for p in spec.fonts] if spec.fonts else list(discover_fonts()[spec.split])
        if not infos:
            raise RuntimeError(f"no fonts for split {spec.split!r}")
        self._hard_cdf: np.ndarray | None = None
        if spec.hard_font_share > 0:
            table = dict(spec.hard_fonts)
            w = np.array([max(0.0, hard_font_weight(table, f.path)) + 0.5 for f in infos])
            self._hard_cdf = np.cumsum(w / w.sum())
        groups: dict[str, list[str]] = {}
        for f in infos:
            groups.setdefault(f.family, []).append(f.path)
        self.font_paths = [f.path for f in infos]
        self.font_families = [groups[k] for k in sorted(groups)]
        self.text = TextSampler(spec.vocab, spec.text, spec.max_len, spec.words)
        self._font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        self._bg_cache: dict[str, np.ndarray] = {}

    def random_text(self, rng: np.random.Generator) -> str:
        return self.text(rng)

    def pick_font(self, rng: np.random.Generator) -> str:
        if self._hard_cdf is not None and rng.random() < self.spec.hard_font_share:
            k = int(np.searchsorted(self._hard_cdf, rng.random() * self._hard_cdf[-1], side="right"))
            return self.font_paths[min(k, len(self.font_paths) - 1)]
        if self.spec.font_sampling == "file":
            return self.font_paths[rng.integers(len(self.font_paths))]
        family = self.font_families[rng.integers(len(self.font_families))]
        return family[rng.integers(len(family))]

    def _font(self, path: str, size: int) -> ImageFont.FreeTypeFont:
        key = (path, size)
        if key not in self._font_cache:
            if len(self._font_cache) > 2000:
                self._font_cache.clear()
            self._font_cache[key] = ImageFont.truetype(path, size)
        return self._font_cache[key]

    def render(self, i: int) -> tuple[np.ndarray, str]:
        """Sample ``i``: ``(RGB uint8 (h, w, 3), text)``."""
        spec = self.spec
        rng = np.random.default_rng([spec.seed, i, SPLITS.index(spec.split)])
        text = self.random_text(rng)
        font_path = self.pick_font(rng)
        size = int(rng.integers(22, 56))
        font = self._font(font_path, size)
        if not spec.augment:
            return self._render_clean(text, font, size, rng), text
        # text effects: thick strokes, outlines in another colour
        stroke = int(rng.integers(1, 3)) if rng.random() < 0.08 else 0
        outline = int(rng.integers(1, max(2, size // 12) + 1)) if rng.random() < 0.1 else 0
        # neighbouring text around the word: a detector's crop often cuts into it
        pre = post = ""
        if rng.random() < 0.15:
            pool = [c for c in spec.vocab if c.isalnum()]
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
        m = effects.apply("glyphs", m, rng, size, spec)
        if pre or post:  # keep the word and only slivers of its neighbours
            x_start = origin[0] + font.getlength(pre)
            x_end = origin[0] + font.getlength(pre + text)
            cut = rng.uniform(0.0, 0.3, 2) * size
            a, b = int(max(0, x_start - cut[0])), int(min(W, x_end + cut[1] + 1))
            m = m[:, a:max(a + 1, b)]
        m = effects.apply("mask", m, rng, size, spec)
        m = effects.apply("shape", m, rng, size, spec)
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
        img = effects.apply("image", img, rng, size, spec)
        return np.clip(img, 0, 255).astype(np.uint8), text

    def _render_clean(self, text: str, font: ImageFont.FreeTypeFont, size: int,
                      rng: np.random.Generator) -> np.ndarray:
        """Dark text on white with a fixed margin: the clean held-out-font benchmark."""
        left, top, right, bottom = font.getbbox(text)
        pad = size // 2
        W, H = max(1, right - left) + 2 * pad, max(1, bottom - top) + 2 * pad
        mask = Image.new("L", (W, H), 0)
        ImageDraw.Draw(mask).text((pad - left, pad - top), text, font=font, fill=255)
        m = np.asarray(mask, dtype=np.float32) / 255.0
        m = effects.apply("glyphs", m[..., None], rng, size, self.spec)[..., 0]
        m = effects.apply("shape", m[..., None], rng, size, self.spec)[..., 0]
        H, W = m.shape
        ys, xs = np.nonzero(m > 0.1)
        if len(xs) == 0:
            ys, xs = np.array([0, H - 1]), np.array([0, W - 1])
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        margin = max(2, (y1 - y0) // 8)
        y0, y1 = max(0, y0 - margin), min(H, y1 + margin)
        x0, x1 = max(0, x0 - margin), min(W, x1 + margin)
        m = m[y0:y1, x0:x1]
        return np.clip(255.0 * (1 - m[..., None]), 0, 255).astype(np.uint8).repeat(3, axis=-1)

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

    def _background_image(self, rng: np.random.Generator) -> np.ndarray | None:
        """A real photo crop to borrow a background from (if the renderer was given some)."""
        if not self.spec.backgrounds or rng.random() >= 0.3:
            return None
        path = self.spec.backgrounds[int(rng.integers(len(self.spec.backgrounds)))]
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


# ---------------------------------------------------------------------------- clean words per font file
def _render_font_words(job) -> list[tuple[str, list[np.ndarray], list[str]]]:
    paths, split, per_font, seed, vocab, text = job
    out = []
    for path in paths:
        renderer = WordRenderer(RenderSpec(split, seed=seed + zlib.crc32(font_key(path).encode()) % 1_000_000,
                                           vocab=vocab, augment=False, fonts=(path,), text=text))
        images, texts = [], []
        for i in range(per_font):
            img, t = renderer.render(i)
            images.append(img)
            texts.append(t)
        out.append((path, images, texts))
    return out


def render_font_words(paths, split: str, per_font: int, seed: int, vocab: str, text: str = "words",
                      workers: int | None = None):
    """Yields ``(font path, images, texts)``: ``per_font`` clean renders in each font file, in
    worker processes, part by part (memory stays at a few parts, not the whole split)."""
    paths = list(paths)
    workers = max(1, workers or min(os.cpu_count() or 1, 8))
    chunk = max(1, -(-len(paths) // (workers * 8)))
    jobs = [(paths[i:i + chunk], split, per_font, seed, vocab, text) for i in range(0, len(paths), chunk)]
    if workers > 1 and len(jobs) > 1:
        with mp.get_context("spawn").Pool(workers) as pool:
            for part in pool.imap(_render_font_words, jobs):
                yield from part
    else:
        for job in jobs:
            yield from _render_font_words(job)

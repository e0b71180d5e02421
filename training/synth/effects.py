"""The synthetic generator's effects: a registry of named operations, each with a probability.

Each render stage runs its effects in registration order. An effect runs when a draw from
the sample's generator falls under its probability (an effect whose probability is 0 draws
nothing, so adding one at probability 0 changes no render). ``p`` is a number, or the name of
a :class:`~training.synth.render.RenderSpec` field that holds it (e.g. ``shape_jitter``:
training renders may set it, benchmark renders leave it at 0), or a function of the spec.

Effects of one ``group`` share ONE draw: the first whose cumulative probability the draw is
under runs, the others do not (a group whose probabilities are all 0 draws nothing). ``unless`` names effects that, if they ran on this sample,
skip this one (without a draw).

Stages and what their effects receive (``x``, ``rng``, ``size`` = font size in px):

* ``glyphs``: the text mask (H, W, C) float32 in [0, 1] right after drawing (clean renders too);
* ``mask``: the mask of an augmented render after neighbouring letters are cut (geometry);
* ``shape``: the mask of any render (clean ones too) just before it is cropped to its ink:
  the text-line shapes of curved signs (training renders set ``curved_text``; the frozen
  ``curved`` benchmark renders them all);
* ``image``: the composed RGB image of an augmented render, float (H, W, 3), values around
  0-255 (degradations; clipped to uint8 at the end).

Adding an augmentation is one function and one line::

    @register("image", "sepia", p=0.05)
    def sepia(img, rng, size):
        return img @ SEPIA_MATRIX
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

STAGES = ("glyphs", "mask", "shape", "image")


@dataclass(frozen=True)
class Effect:
    name: str
    stage: str
    fn: Callable[[np.ndarray, np.random.Generator, int], np.ndarray]
    p: float | str | Callable
    group: str | None = None
    unless: tuple[str, ...] = ()


#: stage -> effects in the order they run.
EFFECTS: dict[str, list[Effect]] = {s: [] for s in STAGES}


def register(stage: str, name: str, p: float | str | Callable, group: str | None = None, unless: tuple[str, ...] = ()):
    """Decorator: add ``fn(x, rng, size) -> x`` to ``stage`` under ``name`` (see the module doc)."""
    if stage not in STAGES:
        raise ValueError(f"effect stage must be one of {STAGES}, got {stage!r}")

    def add(fn):
        if any(e.name == name for effects in EFFECTS.values() for e in effects):
            raise ValueError(f"an effect named {name!r} is already registered")
        EFFECTS[stage].append(Effect(name, stage, fn, p, group, tuple(unless)))
        return fn

    return add


def effect_names() -> list[str]:
    return [e.name for effects in EFFECTS.values() for e in effects]


def apply(stage: str, x: np.ndarray, rng: np.random.Generator, size: int, spec=None,
          applied: set[str] | None = None) -> np.ndarray:
    """Run ``stage``'s effects on ``x``; ``spec`` supplies probabilities given by field name;
    ``applied`` collects the names of the effects that ran."""
    applied = set() if applied is None else applied
    effects = EFFECTS[stage]
    i = 0
    while i < len(effects):
        e = effects[i]
        if e.group is not None:  # one draw picks at most one effect of the group
            j = i
            while j < len(effects) and effects[j].group == e.group:
                j += 1
            probabilities = [_probability(member, spec) for member in effects[i:j]]
            if not any(probabilities):
                i = j
                continue
            r, cum = rng.random(), 0.0
            for member, p in zip(effects[i:j], probabilities):
                cum = round(cum + p, 12)
                if r < cum:
                    x = member.fn(x, rng, size)
                    applied.add(member.name)
                    break
            i = j
            continue
        i += 1
        if applied.intersection(e.unless):
            continue
        p = _probability(e, spec)
        if p > 0 and rng.random() < p:
            x = e.fn(x, rng, size)
            applied.add(e.name)
    return x


def _probability(e: Effect, spec) -> float:
    if callable(e.p):
        if spec is None:
            raise ValueError(f"effect {e.name!r} takes its probability from the render spec; give the spec")
        return float(e.p(spec))
    if isinstance(e.p, str):
        if spec is None:
            raise ValueError(f"effect {e.name!r} takes its probability from the render spec's {e.p!r}; give the spec")
        return float(getattr(spec, e.p))
    return float(e.p)


# ---------------------------------------------------------------------------- glyphs
@register("glyphs", "reshape", p="shape_jitter")
def reshape(m: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
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


# ---------------------------------------------------------------------------- mask geometry
@register("mask", "straight", p=0.45, group="geometry")
def straight(m: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """The text line as drawn (the geometry group's no-op choice)."""
    return m


@register("mask", "perspective", p=0.55, group="geometry")
def perspective(m: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A small rotation, sometimes a shear, and corner jitter (a perspective warp)."""
    h, w = m.shape[:2]
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


@register("mask", "curve", p=0.12)
def curve(m: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
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


# ---------------------------------------------------------------------------- curved-sign shapes
def _on_circle(m: np.ndarray, span: float, arched: bool) -> np.ndarray:
    """The text line laid along a circle: ``span`` radians of it, glyphs upright and turned
    with the circle, arched (convex, like a shop sign's top line) or smiling (concave)."""
    h, w = m.shape[:2]
    radius = w / span  # at the middle of the text height
    r_in, r_out = radius - h / 2, radius + h / 2
    phi = np.linspace(-span / 2, span / 2, 64)
    xs = np.concatenate([r_out * np.sin(phi), r_in * np.sin(phi)])
    ys = np.concatenate([r_out * np.cos(phi), r_in * np.cos(phi)])
    x0, y0 = xs.min(), ys.min()
    X, Y = np.meshgrid(np.arange(int(np.ceil(xs.max() - x0)) + 2, dtype=np.float32) + x0,
                       np.arange(int(np.ceil(ys.max() - y0)) + 2, dtype=np.float32) + y0)
    r, angle = np.hypot(X, Y), np.arctan2(X, Y)  # angle 0 along +Y, growing to the right
    src_x = (angle + span / 2) * radius
    src_y = (r_out - r) if arched else (r - r_in)  # arched: the top of the text is outside
    out = cv2.remap(m, src_x.astype(np.float32), src_y.astype(np.float32), cv2.INTER_LINEAR, borderValue=0)
    out = out if out.ndim == 3 else out[..., None]
    return out[::-1] if arched else out  # arched: the circle's centre below the text


@register("shape", "arched_text", p=lambda spec: 0.4 * spec.curved_text, group="curved_text")
def arched_text(m: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A gently curved line: 20-57 degrees of a circle, arched or smiling."""
    return _on_circle(m, rng.uniform(0.35, 1.0), bool(rng.random() < 0.6))


@register("shape", "circular_text", p=lambda spec: 0.3 * spec.curved_text, group="curved_text")
def circular_text(m: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Text round a seal, a badge or a roundel: 70-170 degrees of a circle."""
    return _on_circle(m, rng.uniform(1.2, 3.0), bool(rng.random() < 0.6))


@register("shape", "strong_slant", p=lambda spec: 0.3 * spec.curved_text, group="curved_text")
def strong_slant(m: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A strong shear (17-35 degrees either way): lettering painted or photographed aslant."""
    h, w = m.shape[:2]
    s = rng.uniform(0.3, 0.7) * (1 if rng.random() < 0.5 else -1)
    M = np.float32([[1, -s, s * h if s > 0 else 0], [0, 1, 0]])
    out = cv2.warpAffine(m, M, (w + int(np.ceil(abs(s) * h)) + 1, h), flags=cv2.INTER_LINEAR, borderValue=0)
    return out if out.ndim == 3 else out[..., None]


# ---------------------------------------------------------------------------- image degradations
@register("image", "low_resolution", p=0.35)
def low_resolution(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Downscale, then back up."""
    h, w = img.shape[:2]
    f = rng.uniform(0.25, 0.8)
    small = cv2.resize(img, (max(2, int(w * f)), max(2, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


@register("image", "gaussian_blur", p=0.35)
def gaussian_blur(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.4))


@register("image", "motion_blur", p=0.15)
def motion_blur(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A line kernel in a random direction."""
    k = int(rng.integers(3, 7))
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), rng.uniform(-45, 45), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    return cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))


@register("image", "defocus", p=0.1, unless=("motion_blur",))
def defocus(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A disk kernel."""
    r = rng.uniform(1.0, 2.5)
    k = 2 * int(np.ceil(r)) + 1
    yy, xx = np.mgrid[:k, :k] - k // 2
    kernel = (xx ** 2 + yy ** 2 <= r * r).astype(np.float32)
    return cv2.filter2D(img, -1, kernel / kernel.sum())


@register("image", "noise", p=0.4)
def noise(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    return img + rng.normal(0, rng.uniform(2, 14), img.shape)


@register("image", "uneven_lighting", p=0.2, group="lighting")
def uneven_lighting(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    w = img.shape[1]
    g = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.2), w)[None, :, None]
    return img * g


@register("image", "spot_light", p=0.1, group="lighting")
def spot_light(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A spot light or vignette."""
    h, w = img.shape[:2]
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    d = np.sqrt(((yy - cy) / h) ** 2 + ((xx - cx) / max(w, h)) ** 2)
    return img * (rng.uniform(0.55, 0.9) + rng.uniform(0.2, 0.6) * np.exp(-d * d * 4))[..., None]


@register("image", "shadow_edge", p=0.08, group="lighting")
def shadow_edge(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A hard shadow edge across the word."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    side = (xx - rng.uniform(0, w)) * np.cos(a) + (yy - rng.uniform(0, h)) * np.sin(a) > 0
    edge = cv2.GaussianBlur(side.astype(np.float32), (0, 0), rng.uniform(0.5, 3))
    return img * (1 - rng.uniform(0.25, 0.6) * edge)[..., None]


@register("image", "invert", p=0.1)
def invert(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    return 255.0 - img


@register("image", "jpeg", p=0.4)
def jpeg(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """JPEG compression at quality 20-90."""
    img = np.clip(img, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
    if ok:
        img = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)
    return img.astype(np.float32)

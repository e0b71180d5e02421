"""Augmentation of real crops (natural size, uint8 RGB in and out), before the model's resize.

Two strengths, chosen with ``--real-augment``:

- ``light`` (the bundled model's recipe): crop jitter, a small rotation, blur, colour and
  contrast changes, JPEG.
- ``heavy``: the scene-text operations of the ``straug`` catalogue (Atienza 2021), re-drawn with
  OpenCV: perspective, curve, rotation and shear, stretch; low resolution, defocus and motion
  blur; noise, contrast, gamma, shadow, inversion; JPEG. Strengths are relative to the crop's
  height, so a 200 px close-up and a 20 px crop are distorted alike at model size.

Heavy is not the bundled recipe: fine-tuning the bundled model with it, even keeping only the
distortions that PP-OCRv6-tiny still read, never beat light on validation
(experiments/LOG.md, abl_aug_* and long_*).
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from ctc_recognizer.preprocessing import to_rgb_uint8

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def augment_light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light augmentation for real crops (natural size, uint8 RGB): crop jitter, small
    rotation, blur, colour and contrast changes, JPEG."""
    img = to_rgb_uint8(img)  # the same conversion inference applies (alpha, 16-bit, float, gray)
    if rng.random() < 0.6:  # crop jitter: cut or pad each side by up to 8% of the height
        img = _crop_jitter(img, rng.uniform(-0.08, 0.08, 4))
    if rng.random() < 0.3:
        h, w = img.shape[:2]
        M = cv2.getRotationMatrix2D((w / 2, h / 2), rng.normal(0, 2.5), 1.0)
        img = cv2.warpAffine(img, M, (w, h), borderMode=cv2.BORDER_REPLICATE)
    f = img.astype(np.float32)
    if rng.random() < 0.5:
        f = f * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
    if rng.random() < 0.2:
        f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < 0.2:
        f = f[:, :, rng.permutation(3)]
    img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        img = _jpeg(img, int(rng.integers(30, 90)))
    return img


def _crop_jitter(img: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Cut (negative) or pad (positive, edge pixels) top, bottom, left, right by ``fractions`` of the height."""
    h = img.shape[0]
    d = (fractions * h).astype(int)
    top, bottom, left, right = (max(0, v) for v in d)
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_REPLICATE)
    ct, cb, cl, cr = (max(0, -v) for v in d)
    hh, ww = img.shape[:2]
    if hh - ct - cb >= 4 and ww - cl - cr >= 4:
        img = img[ct:hh - cb, cl:ww - cr]
    return img


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(enc, cv2.IMREAD_UNCHANGED) if ok else img


# ---------------------------------------------------------------------------- heavy
def _perspective(img, rng):
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = np.stack([rng.uniform(-0.3, 0.3, 4) * h, rng.uniform(-0.15, 0.15, 4) * h], 1)
    dst = (src + jitter).astype(np.float32)
    dst -= dst.min(0)
    out_w, out_h = (int(np.ceil(v)) + 1 for v in dst.max(0))
    M = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, M, (max(out_w, 4), max(out_h, 4)), borderMode=cv2.BORDER_REPLICATE)


def _curve(img, rng):
    """Lay the row on a parabola (an arc), bending by up to 30% of the height."""
    h, w = img.shape[:2]
    bend = rng.uniform(0.1, 0.3) * h * rng.choice([-1, 1])
    pad = int(abs(bend) / 2) + 1  # the rows move by -bend/2 .. +bend/2
    img = cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_REPLICATE)
    x = np.arange(w, dtype=np.float32)
    shift = bend * ((2 * x / max(w - 1, 1) - 1) ** 2 - 0.5)
    map_x = np.tile(x, (h + 2 * pad, 1))
    map_y = np.arange(h + 2 * pad, dtype=np.float32)[:, None] + shift[None, :]
    return cv2.remap(img, map_x, map_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _rotate_shear(img, rng):
    h, w = img.shape[:2]
    shear = rng.uniform(-0.35, 0.35)
    angle = np.deg2rad(rng.normal(0, 5))
    c, s = np.cos(angle), np.sin(angle)
    A = np.array([[c, -s], [s, c]]) @ np.array([[1, shear], [0, 1]])
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) @ A.T
    lo, hi = corners.min(0), corners.max(0)
    M = np.hstack([A, -lo[:, None]]).astype(np.float32)
    size = tuple(int(np.ceil(v)) + 1 for v in (hi - lo))
    return cv2.warpAffine(img, M, size, borderMode=cv2.BORDER_REPLICATE)


def _stretch(img, rng):
    h, w = img.shape[:2]
    return cv2.resize(img, (max(4, int(w * rng.uniform(0.6, 1.6))), h), interpolation=cv2.INTER_LINEAR)


def _low_resolution(img, rng):
    """Down to 8-20 px high and back: the look of small, far-away text."""
    h, w = img.shape[:2]
    target = rng.uniform(8, 20)
    if h <= target:
        return img
    small = cv2.resize(img, (max(2, int(w * target / h)), int(target)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=rng.choice([cv2.INTER_LINEAR, cv2.INTER_NEAREST]))


def _blur(f, rng, scale):
    if rng.random() < 0.5:
        return cv2.GaussianBlur(f, (0, 0), rng.uniform(0.5, 1.6) * scale)
    length = max(2, int(rng.uniform(2, 5) * scale))  # motion blur along a random direction
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    M = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, M, (length, length))
    return cv2.filter2D(f, -1, kernel / max(kernel.sum(), 1e-6))


def augment_heavy(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Heavy augmentation for real crops (natural size, uint8 RGB): up to two geometric
    distortions, then blur / low resolution, lighting, noise, colour and JPEG."""
    img = to_rgb_uint8(img)
    scale = img.shape[0] / 32.0  # blur strengths are set at model height, by the text's own height
    if rng.random() < 0.7:
        img = _crop_jitter(img, rng.uniform(-0.12, 0.15, 4))
    geometric = [_perspective, _curve, _rotate_shear, _stretch]
    for k in rng.permutation(len(geometric))[:int(rng.choice([0, 1, 1, 2]))]:
        img = geometric[k](img, rng)
    if rng.random() < 0.25:
        img = _low_resolution(img, rng)
    f = img.astype(np.float32)
    if rng.random() < 0.35:
        f = _blur(f, rng, scale)
    if rng.random() < 0.6:
        f = f * rng.uniform(0.5, 1.5) + rng.uniform(-50, 50)
    if rng.random() < 0.3:
        f = 255.0 * (np.clip(f, 0, 255) / 255.0) ** rng.uniform(0.5, 2.0)
    if rng.random() < 0.2:  # a shadow: brightness falling off across (or, less often, down) the crop
        h, w = f.shape[:2]
        across = rng.random() < 0.7
        ramp = np.linspace(rng.uniform(0.35, 1.0), rng.uniform(0.35, 1.0), w if across else h)
        f = f * (ramp[None, :, None] if across else ramp[:, None, None])
    if rng.random() < 0.3:
        f = f + rng.normal(0, rng.uniform(3, 18), f.shape)
    if rng.random() < 0.2:
        f = f[:, :, rng.permutation(3)]
    if rng.random() < 0.1:
        f = np.repeat(f.mean(2, keepdims=True), 3, axis=2)
    if rng.random() < 0.05:
        f = 255.0 - f
    img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        img = _jpeg(img, int(rng.integers(15, 80)))
    return img


AUGMENTS: dict[str, Augment] = {"light": augment_light, "heavy": augment_heavy}


def real_augment(kind: str = "light") -> Augment:
    """The augmentation training applies to real crops: ``AUGMENTS[kind]``."""
    if kind not in AUGMENTS:
        raise SystemExit(f"--real-augment {kind!r}: one of {', '.join(AUGMENTS)}")
    return AUGMENTS[kind]

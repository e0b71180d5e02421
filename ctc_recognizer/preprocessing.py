"""Image loading and preprocessing: the one implementation, used by inference *and* training.

``preprocess(image, config)`` turns any supported image into a ``(H, W, C)`` uint8 array
at the model's input size, plus the geometry needed to map model time steps back to
x-positions of the original image.

Supported inputs: a path (``str``/``Path``), encoded bytes, a ``PIL.Image``, or a numpy array
of shape ``(H, W)``, ``(H, W, 1)``, ``(H, W, 2)`` (gray + alpha), ``(H, W, 3)`` (RGB) or
``(H, W, 4)`` (RGBA), of dtype bool, uint8, uint16, other integers holding 0..65535, or
float (0..1 or 0..255). Arrays are taken to be RGB (PIL / Gradio convention); files are
decoded to RGB whatever their on-disk order.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, Union

import cv2
import numpy as np

from .config import RecognizerConfig
from .errors import ImageError

#: Images with more pixels than this are refused before decoding (a word crop never needs it).
MAX_IMAGE_PIXELS = 50_000_000
#: Smallest accepted side, in pixels.
MIN_IMAGE_SIDE = 2
#: A long crop (a line: see ``RecognizerConfig.long_crop_threshold``) is read at this share of
#: its width at the model height, about as much as words are squeezed into the model width in
#: training (a line squeezed into ``long_crop_width`` whatever its length misreads letters)...
LINE_SQUEEZE = 0.6
#: ... rounded to a multiple of this many pixels (few distinct widths: lines batch together)...
LINE_WIDTH_STEP = 32
#: ... at least ``long_crop_width`` and at most this wide (longer lines are squeezed more).
MAX_LINE_WIDTH = 1024

ImageInput = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray, Any]


@dataclass(frozen=True)
class Preprocessed:
    """A model-ready image and the geometry to map model columns back to the original.

    Attributes:
        image: ``(H, W, C)`` uint8 at the model's size.
        original_size: ``(height, width)`` of the input image.
        content_width: columns of ``image`` that hold the (resized) input; the rest is padding.
        read_size: ``(height, width)`` of the image actually resized, if not the original
            (a tall crop turned 90 degrees).
    """

    image: np.ndarray
    original_size: tuple[int, int]
    content_width: int
    read_size: tuple[int, int] | None = None

    def model_x_to_original(self, x: np.ndarray | float) -> np.ndarray:
        """Map x-coordinates in model pixels to x-coordinates in the image that was read
        (the original, or the turned original for vertical text)."""
        width = (self.read_size or self.original_size)[1]
        scale = width / float(self.content_width)
        return np.clip(np.asarray(x, dtype=np.float64) * scale, 0, width)


def _describe(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return f"image file {str(source)!r}"
    return "image"


def _check_size(width: int, height: int, what: str) -> None:
    if width < MIN_IMAGE_SIDE or height < MIN_IMAGE_SIDE:
        raise ImageError(
            f"{what} is {width}x{height} pixels; at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} is needed"
        )
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"{what} is {width}x{height} pixels ({width * height / 1e6:.0f} MP), more than the "
            f"{MAX_IMAGE_PIXELS / 1e6:.0f} MP limit; crop or downscale the word first"
        )


#: ``<_io.BytesIO object at 0x7f...>`` and other object reprs Pillow puts in its messages.
_OBJECT_REPR = re.compile(r"\s*<[^<>]*\bat 0x[0-9a-fA-F]+>|\s*\b0x[0-9a-fA-F]{6,}\b")
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"BM": "BMP",
               b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}


def _reason(exc: BaseException) -> str:
    """A decoder's error message without object reprs or addresses (``<_io.BytesIO object at
    0x...>``), which mean nothing to the user and leak process details."""
    text = _OBJECT_REPR.sub("", str(exc)).strip().rstrip(":").strip()
    return text or type(exc).__name__


def _unreadable_reason(data: bytes, exc: BaseException) -> str:
    """Why Pillow could not open ``data``, in words: a damaged file of a known format, or
    data in no image format at all."""
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        fmt = next((name for magic, name in _SIGNATURES.items() if data.startswith(magic)), None)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            fmt = "WebP"
        if fmt:
            return f"it starts like a {fmt} file but its header is damaged or cut short"
        return "not in an image format that can be decoded (PNG, JPEG, BMP, TIFF, WebP, GIF...)"
    return _reason(exc)


def _looks_truncated(data: bytes, fmt: str | None) -> bool:
    tail = data.rstrip(b"\x00")[-64:]
    if fmt == "PNG":
        return b"IEND" not in tail
    if fmt in ("JPEG", "MPO"):
        return not tail.endswith(b"\xff\xd9")
    return False


def decode_image(data: bytes, what: str = "image") -> np.ndarray:
    """Decode encoded image bytes (PNG, JPEG, BMP, TIFF, WebP, GIF...) to an RGB(A)/gray array."""
    from PIL import Image, UnidentifiedImageError

    if len(data) == 0:
        raise ImageError(f"{what} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt, (width, height) = probe.format, probe.size
                # (a PNG's EXIF may sit after its pixels: Pillow decodes the whole image to
                # find it, so only look when the file names an EXIF chunk or profile)
                has_exif = fmt in ("JPEG", "MPO", "TIFF", "WEBP") or (
                    fmt == "PNG" and (b"eXIf" in data or b"exif" in data))
                orientation = probe.getexif().get(274, 1) if has_exif else 1
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "too many pixels"
        raise ImageError(
            f"{what} is {size}, more than the {MAX_IMAGE_PIXELS / 1e6:.0f} MP limit; "
            "crop or downscale the word first"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(
            f"{what} is not a readable image ({len(data)} bytes; {_unreadable_reason(data, exc)})"
        ) from None
    _check_size(width, height, what)
    if _looks_truncated(data, fmt) and not _decodes_completely(data):
        raise ImageError(f"{what} is a truncated {fmt} file ({len(data)} bytes; the end of the image "
                         "data is missing)")
    array = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:  # a format OpenCV lacks (e.g. GIF): let Pillow decode it
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                return pil_to_array(img)
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"{what} ({fmt}, {len(data)} bytes) could not be decoded: {_reason(exc)}") from None
    if array.ndim == 3 and array.shape[2] == 3:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA)
    return apply_exif_orientation(array, orientation)


_EXIF_TRANSFORMS = {  # EXIF Orientation -> the transform that displays the image upright
    2: lambda a: a[:, ::-1],                          # mirror
    3: lambda a: a[::-1, ::-1],                       # rotate 180
    4: lambda a: a[::-1],                             # flip
    5: lambda a: np.swapaxes(a, 0, 1),                # transpose
    6: lambda a: np.rot90(a, k=-1),                   # rotate 90 clockwise
    7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],    # transverse
    8: lambda a: np.rot90(a, k=1),                    # rotate 90 counter-clockwise
}


def apply_exif_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a decoded array the way its EXIF Orientation tag (1-8) says it is displayed."""
    transform = _EXIF_TRANSFORMS.get(orientation)
    return np.ascontiguousarray(transform(array)) if transform else array


def _decodes_completely(data: bytes) -> bool:
    """Full Pillow decode, for files whose end does not look like an image end (trailing data)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
        return True
    except (OSError, SyntaxError, ValueError):
        return False


def pil_to_array(img: Any) -> np.ndarray:
    """Convert a PIL image to a numpy array in one of the supported layouts."""
    mode = img.mode
    if mode in ("RGB", "RGBA", "L", "LA"):
        return np.asarray(img)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(img).astype(np.uint16)
    if mode == "I":
        return np.asarray(img).astype(np.int64)
    if mode == "F":
        return np.asarray(img)
    if mode == "1":
        return np.asarray(img.convert("L"))
    if mode in ("P", "PA"):
        return np.asarray(img.convert("RGBA"))
    return np.asarray(img.convert("RGB"))


def read_image(source: ImageInput) -> np.ndarray:
    """Load any supported input into a numpy array (RGB channel order; dtype not yet normalised)."""
    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode_image(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        what = _describe(source)
        if not path.exists():
            raise FileNotFoundError(f"{what} does not exist")
        if not path.is_file():
            raise ImageError(f"{what} is not a file")
        return decode_image(path.read_bytes(), what)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        Image = None
    if Image is not None and isinstance(source, Image.Image):
        width, height = source.size
        _check_size(width, height, "PIL image")
        return pil_to_array(source)
    raise ImageError(
        f"unsupported image type {type(source).__name__}; expected a path, bytes, a PIL image "
        "or a numpy array"
    )


def validate_array(array: np.ndarray) -> np.ndarray:
    """Check a raw array's dtype, layout and size (an ``(H, W, 1)`` array becomes ``(H, W)``);
    :class:`ImageError` names what is wrong."""
    if array.dtype.kind not in "biuf":
        raise ImageError(
            f"image array has dtype {array.dtype}; expected bool, integer (uint8/uint16) or float"
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
        raise ImageError(
            f"image array has shape {array.shape}; expected (H, W), (H, W, 1), (H, W, 2), "
            "(H, W, 3) or (H, W, 4)"
        )
    _check_size(array.shape[1], array.shape[0], "image")
    return array


def _value_scale(array: np.ndarray) -> float:
    """Factor that maps the array's value range onto 0..255."""
    kind = array.dtype.kind
    if kind == "b":
        return 255.0
    if array.dtype == np.uint8:
        return 1.0
    if array.dtype == np.uint16:
        return 255.0 / 65535.0
    if kind == "f":
        if not np.isfinite(array).all():
            raise ImageError("image array contains NaN or infinite values")
        lo, hi = float(array.min()), float(array.max())
        if lo < 0:
            raise ImageError(f"float image has negative values (min {lo:g}); expected 0..1 or 0..255")
        if hi <= 1.0:
            return 255.0
        if hi <= 255.0:
            return 1.0
        raise ImageError(f"float image has values up to {hi:g}; expected 0..1 or 0..255")
    lo, hi = int(array.min()), int(array.max())
    if lo < 0 or hi > 65535:
        raise ImageError(f"integer image has values in {lo}..{hi}; expected 0..255 or 0..65535")
    return 1.0 if hi <= 255 else 255.0 / 65535.0


def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    shrinking = width * height < array.shape[0] * array.shape[1]
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(array, (width, height), interpolation=interp)


def _to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """float32 0..255 image with 1-4 channels -> uint8 (H, W, channels); alpha composited on white."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] in (2, 4):
        alpha = image[:, :, -1:] / 255.0
        image = image[:, :, :-1] * alpha + 255.0 * (1.0 - alpha)
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    if channels == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif channels == 1 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
    return image


def border_value(image: np.ndarray) -> np.ndarray:
    """Median colour of the image border: the padding colour, close to the background."""
    border = np.concatenate(
        [image[0], image[-1], image[:, 0], image[:, -1]], axis=0
    ).reshape(-1, image.shape[2])
    return median_rows(border).astype(np.uint8)


def median_rows(values: np.ndarray) -> np.ndarray:
    """``np.median(values, axis=0)``, without its overhead on the small arrays of one image."""
    ordered = np.sort(values, axis=0)
    n = len(ordered)
    if n % 2:
        return ordered[n // 2].astype(np.float64)
    return (ordered[n // 2 - 1].astype(np.float64) + ordered[n // 2]) / 2


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """A validated array of any supported dtype/layout -> (H, W, 3) uint8 RGB, at full size
    (alpha composited on white, 16-bit and float scaled), as inference sees it."""
    image = validate_array(image)
    scale = _value_scale(image)
    return _to_channels(image.astype(np.float32) * scale, 3)


def fit_to_model(image: np.ndarray, config: RecognizerConfig,
                 width: int | None = None) -> tuple[np.ndarray, int]:
    """Resize a validated array to the model geometry (``width``: the input width, default
    ``config.width``). Returns (uint8 (H, W, C), content width)."""
    height, width = config.height, width or config.width
    h, w = image.shape[:2]
    scale = _value_scale(image)
    if image.dtype.kind == "b":
        image = image.astype(np.uint8)
    elif image.dtype not in (np.uint8, np.uint16, np.float32):
        image = image.astype(np.float32)
    if config.resize_mode == "stretch":
        new_w = width
    else:
        new_w = int(min(width, max(1, round(w * height / h))))
    resized = _resize(image, new_w, height)
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == config.channels == 3:
        pass  # RGB uint8 (most inputs): already what the float path below would give
    elif image.dtype == np.uint8 and image.ndim == 2 and config.channels in (1, 3):
        resized = (resized[:, :, None] if config.channels == 1
                   else cv2.cvtColor(resized, cv2.COLOR_GRAY2RGB))
    else:
        resized = resized.astype(np.float32)
        if scale != 1.0:
            resized *= scale
        resized = _to_channels(resized, config.channels)
    if new_w == width:
        return resized, width
    out = np.empty((height, width, config.channels), dtype=np.uint8)
    out[:, :new_w] = resized
    out[:, new_w:] = border_value(resized)
    return out, new_w


def load_array(image: ImageInput) -> np.ndarray:
    """Any supported image -> a validated array (any dtype/channels, not yet resized)."""
    return validate_array(read_image(image))


def input_width(config: RecognizerConfig, height: int, width: int) -> int:
    """The model input width an image of ``height`` x ``width`` pixels is read at: the config's
    (:meth:`RecognizerConfig.input_width`: ``width``, or ``long_crop_width`` for a long crop),
    and for a long crop, a width that follows its length (:data:`LINE_SQUEEZE`) between
    ``long_crop_width`` and :data:`MAX_LINE_WIDTH`. Crops up to the long-crop threshold are
    read as before."""
    base = config.input_width(height, width)
    if not config.long_crop_width or base != config.long_crop_width:
        return base
    natural = width * config.height / height
    line = LINE_WIDTH_STEP * round(natural * LINE_SQUEEZE / LINE_WIDTH_STEP)
    return int(max(config.long_crop_width, min(MAX_LINE_WIDTH, line)))


def prepare_array(array: np.ndarray, config: RecognizerConfig,
                  original_size: tuple[int, int] | None = None) -> Preprocessed:
    """A validated array -> :class:`Preprocessed`, at the input width the config gives its
    size (:func:`input_width`: long crops are read wider).
    ``original_size`` (height, width) is the size reported back (default: the array's; a
    turned crop reports its untouched size)."""
    model_image, content_width = fit_to_model(array, config, input_width(config, *array.shape[:2]))
    size = original_size or array.shape[:2]
    scale_source = array.shape[:2]
    return Preprocessed(model_image, (int(size[0]), int(size[1])), content_width,
                        (int(scale_source[0]), int(scale_source[1])))


def preprocess(image: ImageInput, config: RecognizerConfig) -> Preprocessed:
    """Any supported image -> :class:`Preprocessed` at the model's input size (the config's
    ``width``; a long crop wider, see :func:`input_width`)."""
    return prepare_array(load_array(image), config)


def group_by_width(images: Sequence[np.ndarray]) -> dict[int, list[int]]:
    """Indices of model-ready ``(H, W, C)`` images grouped by width, in first-seen order: one
    model call per group, since long crops may be read wider than the rest."""
    groups: dict[int, list[int]] = {}
    for i, image in enumerate(images):
        groups.setdefault(image.shape[1], []).append(i)
    return groups


def to_model_input(images: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """Stack ``(H, W, C)`` uint8 images into the float32 NHWC batch the ONNX graph takes."""
    return np.ascontiguousarray(np.stack(images).astype(np.float32))

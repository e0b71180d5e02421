"""``config.json``: the single source of truth that travels next to ``model.onnx``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .charset import Charset
from .errors import ConfigError, ModelNotFoundError
from .files import atomic_write_text
from .safety import (MAX_CONFIG_BYTES, MAX_CONFIG_BYTES_ENV, UnsafeModelError, check_file_size,
                     check_inside_model_dir, check_relative_name, size_limit)

#: Version of the config.json layout written by this package.
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
ONNX_NAME = "model.onnx"
RESIZE_MODES = ("keep_ratio", "stretch")


@dataclass
class RecognizerConfig:
    """Everything needed to run a model: vocabulary, input geometry, tensor names.

    Attributes:
        vocab: model characters in class order; the CTC blank is class ``len(vocab)``.
        height, width, channels: the model input, NHWC (``channels`` is 1 for gray, 3 for RGB).
        resize_mode: ``"keep_ratio"`` (scale to ``height``, keep aspect ratio, pad the right
            side up to ``width``) or ``"stretch"`` (plain resize to ``height x width``, as the
            reference design does).
        input_name, output_name: ONNX tensor names. Input is float32 ``(N, H, W, C)`` in
            0..255; output is ``(N, T, len(vocab) + 1)`` softmax probabilities.
        architecture: name of the network (e.g. ``"seed"``), for information and fine-tuning.
        time_columns: how output time steps map to image columns. ``None``: the ``T`` steps
            cover the width left to right. An integer ``k``: step ``t`` looks at column
            ``t % k`` of ``k`` equal columns (the reference design flattens an 8x32 feature map
            row by row into 256 steps, so it has ``time_columns=32``).
        onnx_file: file name of the ONNX graph inside the model folder.
        long_crop_width, long_crop_threshold: optional, set together. A crop whose width,
            scaled to ``height`` with its aspect ratio kept, exceeds ``long_crop_threshold``
            pixels is read at the input width ``long_crop_width`` instead of ``width``: more
            time steps, so long words and short lines are squeezed less and keep room for
            every character. Needs an ONNX graph whose input width is dynamic and whose time
            steps cover the width (``time_columns`` null). Unset: every crop is read at ``width``.
        metrics: optional evaluation results, e.g. ``{"synthetic-test": {"word_accuracy": 0.99}}``.
    """

    vocab: str
    height: int = 32
    width: int = 128
    channels: int = 3
    resize_mode: str = "keep_ratio"
    input_name: str = "input"
    output_name: str = "output"
    architecture: str = "unknown"
    time_columns: int | None = None
    onnx_file: str = ONNX_NAME
    long_crop_width: int | None = None
    long_crop_threshold: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.validate()

    @property
    def charset(self) -> Charset:
        return Charset(self.vocab)

    @property
    def blank_index(self) -> int:
        return self.charset.blank_index

    @property
    def num_classes(self) -> int:
        return self.charset.num_classes

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first field that is not usable."""
        if not isinstance(self.vocab, str):
            raise ConfigError(f"config 'vocab' must be a string, got {type(self.vocab).__name__}")
        Charset(self.vocab)  # checks empty / duplicates
        for name in ("height", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 8:
                raise ConfigError(f"config {name!r} must be an integer >= 8, got {value!r}")
        if self.channels not in (1, 3):
            raise ConfigError(f"config 'channels' must be 1 (gray) or 3 (RGB), got {self.channels!r}")
        if self.resize_mode not in RESIZE_MODES:
            raise ConfigError(
                f"config 'resize_mode' must be one of {RESIZE_MODES}, got {self.resize_mode!r}"
            )
        if not isinstance(self.format_version, int) or self.format_version > FORMAT_VERSION:
            raise ConfigError(
                f"config format_version {self.format_version!r} is newer than this library "
                f"understands ({FORMAT_VERSION}); upgrade ctc-recognizer"
            )
        if self.time_columns is not None and (
            not isinstance(self.time_columns, int) or self.time_columns < 1
        ):
            raise ConfigError(f"config 'time_columns' must be a positive integer or null, got {self.time_columns!r}")
        long_fields = (self.long_crop_width, self.long_crop_threshold)
        if any(v is not None for v in long_fields):
            if any(v is None for v in long_fields):
                raise ConfigError("config 'long_crop_width' and 'long_crop_threshold' must be set together "
                                  f"(got {self.long_crop_width!r} and {self.long_crop_threshold!r})")
            for name, value, least, what in (("long_crop_width", self.long_crop_width, self.width + 1, ">"),
                                             ("long_crop_threshold", self.long_crop_threshold, self.width, ">=")):
                if not isinstance(value, int) or isinstance(value, bool) or value < least:
                    raise ConfigError(f"config {name!r} must be an integer {what} width ({self.width}), got {value!r}")
            if self.time_columns is not None:
                raise ConfigError("config 'long_crop_width' needs time steps that cover the width "
                                  f"('time_columns' null), but time_columns is {self.time_columns}")
        if not isinstance(self.metrics, dict):
            raise ConfigError(f"config 'metrics' must be a mapping, got {type(self.metrics).__name__}")
        try:  # the ONNX file must be a file inside the model folder
            check_relative_name(self.onnx_file, "config 'onnx_file'")
        except UnsafeModelError as exc:
            raise ConfigError(str(exc)) from None

    def input_width(self, image_height: int, image_width: int) -> int:
        """The model input width an image of this size is read at: ``long_crop_width`` when
        its width at the model height exceeds ``long_crop_threshold``, else ``width``."""
        if self.long_crop_width and image_width * self.height > self.long_crop_threshold * image_height:
            return self.long_crop_width
        return self.width

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["blank_index"] = self.blank_index
        data["num_classes"] = self.num_classes
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "RecognizerConfig":
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object, got {type(data).__name__}")
        if "vocab" not in data:
            raise ConfigError(f"{source}: required field 'vocab' is missing")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        try:
            config = cls(**kwargs)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        # Derived fields are written for humans and other tools; when present they must agree.
        for key in ("blank_index", "num_classes"):
            if key in data and data[key] != getattr(config, key):
                raise ConfigError(
                    f"{source}: {key} is {data[key]!r} but the vocab of {len(config.vocab)} "
                    f"characters implies {getattr(config, key)} (the blank is the last class)"
                )
        return config

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` atomically into ``directory``; returns its path."""
        path = Path(directory) / CONFIG_NAME
        atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, max_bytes: int | None = None) -> "RecognizerConfig":
        """Read a ``config.json`` file, or the one inside a model folder.

        A file over ``max_bytes`` (default ``MAX_CONFIG_BYTES``, 1 MB, or the environment
        variable ``CTC_RECOGNIZER_MAX_CONFIG_BYTES``), or a symlink to a file outside its folder
        (a Hugging Face cache snapshot's link into its repository's ``blobs`` is fine), is
        refused with :class:`~ctc_recognizer.safety.UnsafeModelError` before it is read."""
        path = Path(path)
        if path.is_dir():
            path = path / CONFIG_NAME
        if not path.is_file():
            raise ModelNotFoundError(f"no {CONFIG_NAME} at {path}")
        check_inside_model_dir(path, path.parent, "config")
        limit = max_bytes if max_bytes is not None else size_limit(MAX_CONFIG_BYTES_ENV, MAX_CONFIG_BYTES)
        check_file_size(path, limit, "config", MAX_CONFIG_BYTES_ENV)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path} is not valid JSON: {exc}") from None
        return cls.from_dict(data, source=str(path))


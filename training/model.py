"""Network architectures, by name.

Every builder maps ``(N, H, W, C)`` float32 images in 0..255 to ``(N, T, num_classes)``
softmax probabilities, the blank being the last class. Layers are plain Keras layers
(``Rescaling``, not ``Lambda``) so ``.keras`` files load in safe mode, and the LSTMs use the
default tanh/sigmoid activations so tf2onnx exports them as fused ONNX ``LSTM`` ops.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

import keras
from keras import layers


def _seed_residual_block(x, filters: int, strides: int, skip_conv: bool, dropout: float):
    """The reference design's block: conv-BN-act-conv-BN + (1x1 conv) skip, act, dropout."""
    skip = x
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", kernel_initializer="he_uniform")(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.1)(x)
    x = layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_uniform")(x)
    x = layers.BatchNormalization()(x)
    if skip_conv:
        skip = layers.Conv2D(filters, 1, strides=strides, padding="same", kernel_initializer="he_uniform")(skip)
    x = layers.Add()([x, skip])
    x = layers.LeakyReLU(negative_slope=0.1)(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return x


def build_seed(num_classes: int, height: int = 32, width: int = 128, channels: int = 3,
               dropout: float = 0.2) -> keras.Model:
    """The reference design (mltu "Image to Word"): 7 residual blocks (16-16-16-32-32-64-64
    filters, stride 2 in blocks 2 and 4), the (H/4, W/4, 64) map flattened row by row into
    ``H/4 * W/4`` time steps (256 for 32x128), BiLSTM(64), softmax Dense.
    252,799 parameters with 63 classes."""
    inputs = keras.Input((height, width, channels), name="input")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters, strides, skip_conv in [(16, 1, True), (16, 2, True), (16, 1, False), (32, 2, True),
                                        (32, 1, False), (64, 1, True), (64, 1, False)]:
        x = _seed_residual_block(x, filters, strides, skip_conv, dropout)
    x = layers.Reshape((x.shape[1] * x.shape[2], x.shape[3]))(x)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="seed")


def _conv_bn(x, filters: int, name: str, strides: int = 1, separable: bool = False,
             momentum: float = 0.99):
    """3x3 conv (or depthwise 3x3 + pointwise 1x1) + BN + ReLU."""
    if separable:
        x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=f"{name}_dw")(x)
        x = layers.BatchNormalization(momentum=momentum, name=f"{name}_dw_bn")(x)
        x = layers.ReLU(name=f"{name}_dw_relu")(x)
        x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)
    else:
        x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_crnn(num_classes: int, height: int = 32, width: int = 128, channels: int = 3,
               dropout: float = 0.2, filters: tuple[int, int, int, int] = (32, 48, 96, 128),
               lstm_units: int = 96, lstm_layers: int = 2, bn_momentum: float = 0.99,
               column_order: str = "ch", blocks: int = 2) -> keras.Model:
    """The project's default: faster and more accurate than ``seed``. ``width=None`` builds
    the same network for inputs of any width (a multiple of 4).

    The feature map is pooled to a height of 2 and one time step per 4 input columns
    (32 steps for a 128-wide input, read left to right), so the BiLSTMs see a short sequence
    of wide features instead of 256 steps of 64 features; stages 3-4 use depthwise-separable
    residual convolutions. For 32x128:

    stride-2 conv 32 -> 16x64 | conv 48, pool -> 8x32 | 2 x sep-conv 96 (residual), pool(2,1)
    -> 4x32 | 2 x sep-conv 128 (residual), pool(2,1) -> 2x32 | columns (32, 256)
    -> 2 x BiLSTM(96) -> softmax Dense.

    ``blocks``: separable convolutions per stage 3 and 4 (the first, then ``blocks - 1``
    residual ones).

    ``column_order="hc"`` is the layout of models trained before 2026-11-26 (the features of a
    step ordered row-major); :func:`transfer_weights` converts such a model to ``"ch"`` exactly.
    """
    if height % 16 or (width is not None and width % 4):
        raise ValueError(f"crnn needs a height divisible by 16 and a width by 4, got {height}x{width}")
    f1, f2, f3, f4 = filters
    inputs = keras.Input((height, width, channels), name="input")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = _conv_bn(x, f1, "s1", strides=2, momentum=bn_momentum)
    x = _conv_bn(x, f2, "s2", momentum=bn_momentum)
    x = layers.MaxPooling2D(2, name="s2_pool")(x)
    for stage, f in (("s3", f3), ("s4", f4)):
        x = _conv_bn(x, f, f"{stage}a", separable=True, momentum=bn_momentum)
        for b in range(1, blocks):
            y = _conv_bn(x, f, f"{stage}{'abcdefgh'[b]}", separable=True, momentum=bn_momentum)
            x = layers.Add(name=f"{stage}_add" + ("" if b == 1 else str(b)))([x, y])
        x = layers.MaxPooling2D((2, 1), name=f"{stage}_pool")(x)
        if dropout:
            x = layers.SpatialDropout2D(dropout / 2, name=f"{stage}_drop")(x)
    # (N, h, w, c) -> (N, w, h*c): one time step per feature-map column, left to right.
    # column_order "ch" lays each step's features out channel-major, (N, w, c, h): the same
    # network up to a permutation of the first LSTM's input weights, but from ONNX's NCHW map
    # that is a single-axis transpose, which ONNX Runtime runs far faster than (N, w, h, c).
    if column_order not in ("hc", "ch"):
        raise ValueError(f"column_order must be 'hc' or 'ch', got {column_order!r}")
    x = layers.Permute((2, 1, 3) if column_order == "hc" else (2, 3, 1), name="to_columns")(x)
    # -1 steps: a model built with ``width=None`` reads any width (a multiple of 4), one step
    # per 4 columns; its weights are those of the fixed-width model (``training.export.dynamic_width_model``).
    x = layers.Reshape((-1 if x.shape[1] is None else x.shape[1], x.shape[2] * x.shape[3]), name="columns")(x)
    if dropout:
        x = layers.Dropout(dropout, name="feat_drop")(x)
    for i in range(lstm_layers):
        x = layers.Bidirectional(layers.LSTM(lstm_units, return_sequences=True), name=f"bilstm{i + 1}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="seq_drop")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="crnn")


def build_crnn_small(num_classes: int, height: int = 32, width: int = 128, channels: int = 3,
                     dropout: float = 0.0) -> keras.Model:
    """A tiny CRNN for tests and quick experiments (same layout as ``crnn``, narrower, and
    batch-norm statistics that follow short trainings quickly)."""
    return build_crnn(num_classes, height, width, channels, dropout,
                      filters=(24, 32, 48, 64), lstm_units=64, lstm_layers=1, bn_momentum=0.8)


def build_crnn_wide(num_classes: int, height: int = 32, width: int = 128, channels: int = 3,
                    dropout: float = 0.2) -> keras.Model:
    """``crnn`` with a wider and deeper CNN (stage widths 32-64-128-192, three separable
    convolutions in stages 3 and 4): about twice the convolution work, the same BiLSTMs."""
    return build_crnn(num_classes, height, width, channels, dropout, filters=(32, 64, 128, 192), blocks=3)


#: name -> (builder, time_columns): ``time_columns`` as in RecognizerConfig (None = steps are columns).
ARCHITECTURES: dict[str, tuple[Callable[..., keras.Model], int | None]] = {
    "seed": (build_seed, None),
    "crnn": (build_crnn, None),
    "crnn_small": (build_crnn_small, None),
    "crnn_wide": (build_crnn_wide, None),
}


def build_model(name: str, num_classes: int, height: int = 32, width: int = 128,
                channels: int = 3, dropout: float | None = None) -> keras.Model:
    """``dropout``: the rate of the architecture's dropout layers (None: its default; 0: none,
    which changes no weight, so a model trained with dropout fine-tunes without it)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {sorted(ARCHITECTURES)}")
    if dropout is not None and not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    builder, _ = ARCHITECTURES[name]
    extra = {} if dropout is None else {"dropout": dropout}
    return builder(num_classes, height=height, width=width, channels=channels, **extra)


def time_columns(name: str, width: int) -> int | None:
    """How the architecture's time steps map to image columns (see RecognizerConfig)."""
    if name == "seed":
        return width // 4
    return ARCHITECTURES[name][1]


def _column_permutation(src: keras.Model, dst: keras.Model) -> np.ndarray | None:
    """Row order that maps the first LSTM's input weights of ``src`` onto ``dst`` when their
    ``to_columns`` layouts differ ((h, c) vs (c, h) features per step); None if they agree."""
    try:
        a, b = src.get_layer("to_columns"), dst.get_layer("to_columns")
    except ValueError:
        return None
    if tuple(a.dims) == tuple(b.dims):
        return None
    h, _, c = (int(d) for d in a.input.shape[1:])
    hc = np.arange(h * c).reshape(h, c)  # src feature index of (row, channel)
    order = {(2, 1, 3): "hc", (2, 3, 1): "ch"}
    if order.get(tuple(a.dims)) is None or order.get(tuple(b.dims)) is None:
        raise ValueError(f"cannot map column layout {a.dims} onto {b.dims}")
    return (hc if order[tuple(b.dims)] == "hc" else hc.T).reshape(-1)


def transfer_weights(src: keras.Model, dst: keras.Model) -> tuple[list[str], list[str]]:
    """Copy ``src``'s weights into ``dst`` layer by layer, by name, where the shapes match
    (a warm start across architecture revisions, as ``transformers`` does by parameter name).
    A change of column layout (``build_crnn(column_order=...)``) is converted exactly by
    reordering the first LSTM's input rows. Returns (copied, left at their initial values)."""
    perm = _column_permutation(src, dst)
    src_layers = {layer.name: layer for layer in src.layers}
    copied, fresh = [], []
    first_rnn = next((layer.name for layer in dst.layers if isinstance(layer, layers.Bidirectional)), None)
    for layer in dst.layers:
        target = layer.get_weights()
        if not target:
            continue
        source = src_layers.get(layer.name)
        weights = source.get_weights() if source is not None else []
        if perm is not None and layer.name == first_rnn and weights:
            # Bidirectional(LSTM) weights: [fw kernel, fw recurrent, fw bias, bw ...]: reorder
            # the rows of the two input kernels (0 and 3)
            weights = [w[perm] if w.ndim == 2 and w.shape[0] == len(perm) and i % 3 == 0 else w
                       for i, w in enumerate(weights)]
        if len(weights) == len(target) and all(w.shape == t.shape for w, t in zip(weights, target)):
            layer.set_weights(weights)
            copied.append(layer.name)
        else:
            fresh.append(layer.name)
    if not copied:
        raise ValueError(f"no layer of {src.name!r} matches {dst.name!r} by name and shape")
    return copied, fresh

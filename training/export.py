"""Export a trained Keras model for ``ctc_recognizer``: ``model.keras``, ``model.onnx``
(tf2onnx, opset >= 17, on CPU), ``config.json``; optional int8 ``model.int8.onnx``.

Every file is written atomically, and the ONNX graph is checked against Keras on the same
batch *before* anything is written: an export that does not reproduce the Keras model fails
loudly instead of shipping silently broken.

    python -m training.export runs/exp1/best.keras --output runs/exp1/model [--quantize]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.files import atomic_write_bytes

logger = logging.getLogger(__name__)

DEFAULT_OPSET = 17
DEFAULT_TOLERANCE = 1e-4


class ExportError(RuntimeError):
    """The exported ONNX graph does not reproduce the Keras model."""


#: Long crops (see ``RecognizerConfig.long_crop_width``): a crop wider than 1.5625 x the input
#: width at the model height (200 px for 128) is read at 1.5 x the width (192: 48 time steps
#: instead of 32). Chosen on the bundled model with validation renders only (5,000 per set,
#: validation fonts): dictionary words 93.94 -> 94.04%, clean mix 88.98 -> 90.04%, degraded
#: mix 70.20 -> 71.24%; the clean mix's crops wider than 320 px at height 32 (two-word lines,
#: long codes) 62.3 -> 93.5%. Reading every crop at 192 instead loses 0.3-0.4 points, reading
#: long crops unsqueezed at their natural width loses more (the LSTMs were trained on 32 steps).
LONG_CROP_WIDTH_FACTOR = 1.5
LONG_CROP_THRESHOLD_FACTOR = 1.5625


def long_crop_defaults(width: int) -> tuple[int, int]:
    """(long_crop_width, long_crop_threshold) for a model of input width ``width``."""
    return 4 * round(width * LONG_CROP_WIDTH_FACTOR / 4), round(width * LONG_CROP_THRESHOLD_FACTOR)


def dynamic_width_model(model, config: RecognizerConfig):
    """``model``'s network rebuilt for inputs of any width, with its weights; None when the
    architecture cannot read other widths (time steps that do not cover the width, like
    ``seed``'s, or a model not built by ``training.model``)."""
    from .model import ARCHITECTURES, build_model, transfer_weights

    if config.time_columns is not None or config.architecture not in ARCHITECTURES:
        return None
    try:
        clone = build_model(config.architecture, config.num_classes, height=config.height, width=None,
                            channels=config.channels, dropout=0.0)
    except (ValueError, TypeError):
        return None
    try:
        _, fresh = transfer_weights(model, clone)
    except ValueError as exc:
        fresh = [str(exc)]
    if fresh:
        logger.warning("not exporting a dynamic-width graph: rebuilt as %r, layers %s found no "
                       "weights in the trained model", config.architecture, fresh)
        return None
    return clone


def keras_to_onnx_bytes(model, config: RecognizerConfig, opset: int = DEFAULT_OPSET,
                        dynamic_width: bool = False) -> tuple[bytes, str]:
    """Convert on the CPU (a GPU trace holds CudnnRNN ops tf2onnx cannot convert).
    ``dynamic_width``: the graph's input width is left open (``model`` must accept it)."""
    import tensorflow as tf
    import tf2onnx

    if opset < 17:
        raise ValueError(f"opset must be >= 17, got {opset}")
    spec = (tf.TensorSpec((None, config.height, None if dynamic_width else config.width, config.channels),
                          tf.float32, name=config.input_name),)
    with tf.device("/CPU:0"):
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    return proto.SerializeToString(), proto.graph.output[0].name


def onnx_vs_keras(model, onnx_bytes: bytes, config: RecognizerConfig, batch: np.ndarray,
                  output_name: str) -> float:
    """Max absolute difference between Keras and ONNX Runtime outputs on ``batch``."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    batch = batch.astype(np.float32)
    got = sess.run([output_name], {config.input_name: batch})[0]
    want = np.asarray(model(batch, training=False))
    if got.shape != want.shape:
        raise ExportError(f"ONNX output shape {got.shape} differs from Keras {want.shape}")
    return float(np.abs(got - want).max())


def export_model(model, config: RecognizerConfig, out_dir: str | os.PathLike,
                 sample_batch: np.ndarray | None = None, tolerance: float = DEFAULT_TOLERANCE,
                 opset: int = DEFAULT_OPSET, save_keras: bool = True, long_crops: bool = True) -> dict:
    """Write ``model.keras``, ``model.onnx`` and ``config.json`` into ``out_dir``.

    ``sample_batch``: ``(N, H, W, C)`` images for the Keras-vs-ONNX check (random images when
    omitted). Raises :class:`ExportError` when they differ by more than ``tolerance``.
    ``long_crops``: where the architecture allows (time steps covering the width) and the
    resize mode is ``keep_ratio``, export a
    graph with a dynamic input width and set the config's ``long_crop_width`` /
    ``long_crop_threshold`` (kept if already set, else :func:`long_crop_defaults`), checked
    against Keras at that width too; otherwise a fixed-width graph without them.
    """
    from .callbacks import atomic_save_model

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    def random_batch(n: int, width: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, (n, config.height, width, config.channels)).astype(np.float32)

    if sample_batch is None:
        sample_batch = random_batch(8, config.width, 0)
    # long-crop reading was measured with aspect-kept resizing only (a stretched input has no
    # natural width to compare with the threshold in the same sense)
    wide = dynamic_width_model(model, config) if long_crops and config.resize_mode == "keep_ratio" else None
    onnx_bytes, output_name = keras_to_onnx_bytes(wide or model, config, opset, dynamic_width=wide is not None)
    config.output_name = output_name
    diff = onnx_vs_keras(model, onnx_bytes, config, sample_batch, output_name)
    if wide is not None:
        if config.long_crop_width is None:  # (the config sets both or neither)
            config.long_crop_width, config.long_crop_threshold = long_crop_defaults(config.width)
        long_batch = random_batch(4, config.long_crop_width, 1)
        diff = max(diff, onnx_vs_keras(wide, onnx_bytes, config, long_batch, output_name))
    else:
        config.long_crop_width = config.long_crop_threshold = None
    config.validate()
    if not diff <= tolerance:
        raise ExportError(
            f"the ONNX export differs from the Keras model by {diff:.3g} (> {tolerance:g}) on the "
            "same batch; not writing it"
        )
    out_shape = model.output_shape
    if out_shape[-1] != config.num_classes:
        raise ExportError(f"model outputs {out_shape[-1]} classes, config expects {config.num_classes}")
    atomic_write_bytes(out_dir / config.onnx_file, onnx_bytes)
    if save_keras:
        atomic_save_model(model, out_dir / "model.keras")
    config.save(out_dir)
    logger.info("exported to %s (Keras vs ONNX max abs diff %.2e)", out_dir, diff)
    return {"max_abs_diff": diff, "onnx": str(out_dir / config.onnx_file)}


def synthetic_calibration(config: RecognizerConfig, n: int = 256, seed: int = 123) -> np.ndarray:
    """int8 calibration images: ``n`` synthetic words in the training fonts, at model size.
    (Measured on the bundled model: calibrating on these reads the real held-out crops as well
    as fp32 does, while adding real crops to the set cost 0.7-2.6 points, their outlier
    activations stretching the ranges.)"""
    from ctc_recognizer.preprocessing import fit_to_model

    from .synth import RenderSpec, WordRenderer

    r = WordRenderer(RenderSpec("train", seed=seed, vocab=config.vocab))
    return np.stack([fit_to_model(r.render(i)[0], config)[0] for i in range(n)])


#: Operators the int8 model runs quantized (the LSTMs are quantized dynamically, on top).
#: Beyond the convolutions and matrix products, the ops between them (residual adds, pooling,
#: and the transposes, reshapes, slices and concats around the LSTMs) keep their data in uint8:
#: quantizing only Conv/MatMul/Gemm left 13 DequantizeLinear and 11 QuantizeLinear nodes that
#: took a third of the int8 model's time in ONNX Runtime's profile (crnn, batch 64); with these
#: ops it ran 1.07-1.7x as fast in five side-by-side bench/speed.py runs, with the same accuracy
#: (bench/compare.py).
INT8_OP_TYPES = ("Conv", "MatMul", "Gemm", "Add", "MaxPool", "Relu", "Transpose", "Reshape", "Concat",
                 "Slice", "Squeeze", "Unsqueeze")


def quantize_int8(model_dir: str | os.PathLike, calibration: np.ndarray | None = None,
                  out_name: str = "model.int8.onnx", op_types: Sequence[str] = INT8_OP_TYPES,
                  calibration_method: str = "minmax") -> Path:
    """int8 variant: static quantization (QDQ, per-channel weights, u8 activations, s8 weights
    as VNNI wants them, reduced range so AVX2 machines stay exact) of the ``op_types``
    (default :data:`INT8_OP_TYPES`: the convolutions, matrix products and the ops between
    them), activation ranges set by the minimum and maximum over ``calibration`` images
    (default :func:`synthetic_calibration`; ``calibration_method="percentile"``: the 0.01th
    to 99.99th percentiles instead); then the LSTMs' weights dynamically
    (``DynamicQuantizeLSTM``), since ORT's static quantizer leaves LSTM ops in float.

    Min-max ranges, measured on the bundled model against fp32 over 10,000 renders of each
    validation set (``python bench/int8_calibration.py``,
    bench/measurements/int8_calibration_2026-11-27.txt): the int8 model's
    reading differs from fp32's on 63+64 / 29+39 / 151+117 (lost+gained) words of the clean
    mix / dictionary words / degraded mix, against 183+144 / 104+91 / 136+94 with ranges at the
    99.99th percentile, which clipped the large activations that carry the characters; the
    same speed."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_dynamic, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": (CalibrationMethod.MinMax, {}),
               "percentile": (CalibrationMethod.Percentile, {"CalibPercentile": 99.99})}
    if calibration_method not in methods:
        raise ValueError(f"calibration_method must be one of {sorted(methods)}, got {calibration_method!r}")
    method, method_options = methods[calibration_method]
    model_dir = Path(model_dir)
    config = RecognizerConfig.load(model_dir)
    src = model_dir / config.onnx_file
    if calibration is None:
        calibration = synthetic_calibration(config)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{config.input_name: calibration[i:i + 32].astype(np.float32)}
                                 for i in range(0, len(calibration), 32)])

        def get_next(self):
            return next(self.batches, None)

    tmp_pre = model_dir / ".preprocessed.onnx"
    tmp_static = model_dir / f".{out_name}.static.tmp"
    tmp_out = model_dir / f".{out_name}.tmp"
    try:
        quant_pre_process(str(src), str(tmp_pre), skip_symbolic_shape=True)
        quantize_static(str(tmp_pre), str(tmp_static), Reader(), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=list(op_types), per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        # 7-bit weights: without VNNI (plain AVX2) u8 x s8 products saturate
                        # and the model reads garbage; VNNI machines lose almost nothing with it.
                        reduce_range=True, calibrate_method=method, extra_options=method_options)
        quantize_dynamic(str(tmp_static), str(tmp_out), op_types_to_quantize=["LSTM"],
                         weight_type=QuantType.QInt8, reduce_range=True)
        os.replace(tmp_out, model_dir / out_name)
    finally:
        for tmp in (tmp_pre, tmp_static, tmp_out):
            tmp.unlink(missing_ok=True)
    return model_dir / out_name


def load_keras(path: str | os.PathLike):
    import keras

    from .losses import CTCLoss  # noqa: F401  (registers the loss for deserialization)

    return keras.models.load_model(path, compile=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("keras_model", help="a .keras file (e.g. runs/exp1/best.keras)")
    parser.add_argument("--config", help="config.json to take vocab/geometry from "
                        "(default: the config.json next to the .keras file or in its run folder)")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    parser.add_argument("--quantize", action="store_true", help="also write model.int8.onnx")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    keras_path = Path(args.keras_model)
    candidates = [args.config] if args.config else [keras_path.parent / "config.json",
                                                    keras_path.parent / "model" / "config.json"]
    cfg_path = next((Path(c) for c in candidates if c and Path(c).is_file()), None)
    if cfg_path is None:
        raise SystemExit(f"no config.json found ({', '.join(map(str, candidates))}); pass --config")
    config = RecognizerConfig.load(cfg_path)
    model = load_keras(keras_path)
    result = export_model(model, config, args.output, opset=args.opset)
    if args.quantize:
        result["int8"] = str(quantize_int8(args.output))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

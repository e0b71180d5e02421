"""Average the weights of models fine-tuned from one another ("model soup", Wortsman et al.
2022) and export the result like a training run: ``model.keras``, ``model.onnx``,
``config.json`` (and ``model.int8.onnx`` with ``--quantize``).

Runs that share an ancestor (one fine-tuned from the other, or both from a third) lie in one
basin of the loss, and the average of their weights often reads better than either. Averaging
unrelated runs does not work (their units are not aligned): train them with ``--init-from``.
All models must have the same architecture, input geometry and vocabulary; batch-norm moving
statistics are averaged with the weights.

    python -m training.average runs/default-stage11/model runs/stage12/model --output runs/soup
    python -m training.average A B C --weights 0.5 0.25 0.25 --output runs/soup --quantize
    python -m training.evaluate --model runs/soup/model --data synthetic:test --num 1000
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
from ctc_recognizer.errors import ConfigError
from ctc_recognizer.files import atomic_write_text

logger = logging.getLogger(__name__)

#: Config fields that must agree between averaged models.
MUST_MATCH = ("vocab", "height", "width", "channels", "resize_mode", "architecture", "time_columns")


class AverageError(ValueError):
    """The models cannot be averaged (missing files, different architectures or vocabularies)."""


def _model_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(model.keras, config.json) of a model folder, a training run holding ``model/`` or a
    ``.keras`` file, or ``default`` (:func:`training.locate.keras_model`), or an AverageError."""
    from .locate import keras_model

    try:
        keras_path, cfg_path = keras_model(path)
    except FileNotFoundError as e:
        raise AverageError(f"{e} (give a training run, its model/ folder or a .keras file)") from None
    if cfg_path is None:
        raise AverageError(f"{path}: no config.json beside {keras_path}")
    return keras_path, cfg_path


def average_weights(weight_lists: Sequence[Sequence[np.ndarray]], coefficients: Sequence[float]) -> list[np.ndarray]:
    """Weighted average, array by array, of several models' ``get_weights()`` lists."""
    if len({len(w) for w in weight_lists}) != 1:
        raise AverageError("the models have different numbers of weight arrays (different architectures)")
    out = []
    for i, arrays in enumerate(zip(*weight_lists)):
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise AverageError(f"weight array {i} has different shapes {sorted(shapes)} (different architectures)")
        if np.issubdtype(arrays[0].dtype, np.floating):
            acc = sum(float(c) * a.astype(np.float64) for c, a in zip(coefficients, arrays))
            out.append(acc.astype(arrays[0].dtype))
        else:  # integer state (e.g. counters): take the first model's
            out.append(arrays[0])
    return out


def average_models(models: Sequence[str | os.PathLike], output: str | os.PathLike,
                   weights: Sequence[float] | None = None, quantize: bool = False) -> Path:
    """Average ``models`` (runs, model folders or .keras files) into ``output`` (written
    atomically, file by file)."""
    from .export import export_model, load_keras, quantize_int8

    if len(models) < 2:
        raise AverageError("give at least two models to average")
    weights = [1.0 / len(models)] * len(models) if weights is None else [float(w) for w in weights]
    if len(weights) != len(models):
        raise AverageError(f"{len(weights)} weights for {len(models)} models")
    if any(w < 0 for w in weights) or not np.isclose(sum(weights), 1.0):
        raise AverageError(f"weights must be non-negative and sum to 1, got {weights}")
    paths = [_model_paths(m) for m in models]
    configs = []
    for _, cfg_path in paths:
        try:
            configs.append(RecognizerConfig.load(cfg_path))
        except ConfigError as e:
            raise AverageError(f"{cfg_path}: {e}") from e
    for field in MUST_MATCH:
        values = {repr(getattr(c, field)) for c in configs}
        if len(values) != 1:
            raise AverageError(f"the models differ in {field!r} ({', '.join(sorted(values))}); "
                               "only models of one architecture and vocabulary can be averaged")
    # how long crops are read is a reading setting, not a weight: models that set it must agree
    # (a model exported without it takes whatever the others set, or the export's default)
    long_crops = {(c.long_crop_width, c.long_crop_threshold) for c in configs if c.long_crop_width}
    if len(long_crops) > 1:
        raise AverageError(f"the models read long crops differently (long_crop_width, long_crop_threshold: "
                           f"{', '.join(map(str, sorted(long_crops)))}); set one in their config.json files")
    keras_models = [load_keras(keras_path) for keras_path, _ in paths]
    merged = keras_models[0]
    merged.set_weights(average_weights([m.get_weights() for m in keras_models], weights))
    config = configs[0]
    config.long_crop_width, config.long_crop_threshold = next(iter(long_crops), (None, None))
    config.metrics = {}  # the sources' validation numbers do not describe the average
    out = Path(output)
    export_model(merged, config, out)
    sources = [str(k.parent if k.name == "model.keras" else k) for k, _ in paths]
    recipe = {"averaged": sources, "weights": weights}
    atomic_write_text(out / "train_config.json", json.dumps(recipe, indent=2) + "\n")
    if quantize:
        quantize_int8(out)
    logger.info("averaged %d models into %s", len(paths), out)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="training runs, their model/ folders or .keras files")
    p.add_argument("--output", required=True, help="output model folder")
    p.add_argument("--weights", type=float, nargs="+", help="one per model, summing to 1 (default: equal)")
    p.add_argument("--quantize", action="store_true", help="also write model.int8.onnx")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        out = average_models(args.models, args.output, args.weights, quantize=args.quantize)
    except AverageError as e:
        raise SystemExit(f"error: {e}") from None
    print(out)


if __name__ == "__main__":
    main()

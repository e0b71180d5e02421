"""One resolver for "which model": a training run folder, an exported model folder, a ``.keras``
file, ``default`` (the bundled model, whose Keras weights live in ``training/pretrained/default``,
outside the inference package) or a Hub id.

A run folder holds ``best.keras`` and ``config.json`` while it trains and ``model/`` (the
export: ``config.json``, ``model.onnx``, ``model.keras``) once it is done.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The Keras weights (and training config) of the bundled model, for fine-tuning and averaging.
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
#: The bundled model's export (ONNX + config.json), shipped with the inference package.
BUNDLED_MODEL_DIR = Path(__file__).resolve().parents[1] / "ctc_recognizer" / "models"


@dataclass(frozen=True)
class ModelFiles:
    """What a model reference points at. ``export_dir``: a folder with ``config.json`` (and the
    ONNX graph) for :meth:`ctc_recognizer.Recognizer.from_pretrained`, or None; ``keras``: the
    Keras model, or None; ``config``: the ``config.json`` that describes ``keras``;
    ``in_progress``: a run folder still training (``best.keras``, no export yet)."""

    export_dir: Path | None
    keras: Path | None
    config: Path | None
    in_progress: bool = False


def _export(folder: Path) -> Path | None:
    return folder if (folder / "config.json").is_file() else None


def resolve_model(ref: str | os.PathLike) -> ModelFiles:
    """The files of a model reference; FileNotFoundError naming what was looked for."""
    path = Path(ref)
    if str(ref) == "default" and not path.exists():
        path = BUNDLED_MODEL_DIR / "default"
    if path.is_file():
        if path.suffix != ".keras":
            raise FileNotFoundError(f"{path} is a file but not a .keras model")
        for cfg in (path.parent / "config.json", path.parent / "model" / "config.json"):
            if cfg.is_file():
                return ModelFiles(_export(cfg.parent), path, cfg)
        return ModelFiles(None, path, None)
    if not path.is_dir():
        raise FileNotFoundError(f"no model at {path} (a run folder, a model folder, a .keras file or 'default')")
    in_progress = ((path / "best.keras").is_file() and not (path / "model").is_dir()
                   and not (path / "model.keras").is_file() and not any(path.glob("*.onnx")))
    if in_progress:  # a run that is still training: its config.json, its best checkpoint, no export yet
        cfg = path / "config.json"
        return ModelFiles(None, path / "best.keras", cfg if cfg.is_file() else None, in_progress=True)
    for folder in (path / "model", path):  # a finished run's export, or a model folder
        if _export(folder) or (folder / "model.keras").is_file():
            keras = folder / "model.keras"
            if not keras.is_file() and folder.resolve().parent == BUNDLED_MODEL_DIR:
                keras = PRETRAINED_DIR / folder.name / "model.keras"  # a bundled model's Keras weights
            cfg = folder / "config.json"
            return ModelFiles(_export(folder), keras if keras.is_file() else None, cfg if cfg.is_file() else None)
    raise FileNotFoundError(f"no model in {path}: no config.json, model.keras or best.keras there or in {path / 'model'}")


def keras_model(ref: str | os.PathLike) -> tuple[Path, Path | None]:
    """(.keras path, its config.json or None) of a run, model folder, .keras file or ``default``."""
    files = resolve_model(ref)
    if files.keras is None:
        raise FileNotFoundError(f"no Keras model (model.keras) at {ref}")
    return files.keras, files.config


def export_dir(ref: str | os.PathLike) -> Path:
    """The exported model folder (``config.json`` + ONNX) of a run or model folder."""
    files = resolve_model(ref)
    if files.export_dir is None:
        raise FileNotFoundError(f"no exported model (config.json) in {ref} or {Path(ref) / 'model'}")
    return files.export_dir


def recognizer_ref(ref: str | None) -> str | None:
    """What to give :meth:`Recognizer.from_pretrained` for ``ref``: a run's export folder, a model
    folder, or ``ref`` itself (a Hub id, or None for the bundled model)."""
    if ref is None:
        return None
    try:
        files = resolve_model(ref)
    except FileNotFoundError:
        return ref  # a Hub id, or a path from_pretrained will name in its own error
    return str(files.export_dir) if files.export_dir else ref

"""Training callbacks: decoded-text validation metrics, atomic best checkpoint,
atomic backup-and-restore, a wall-clock budget."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from ctc_recognizer.charset import Charset
from ctc_recognizer.files import atomic_write_text, default_file_mode
from ctc_recognizer.decoding import greedy_decode
from ctc_recognizer.metrics import compute_metrics

logger = logging.getLogger(__name__)


def decode_texts(probs: np.ndarray, charset: Charset) -> list[str]:
    return [charset.decode(d.labels) for d in greedy_decode(probs, charset.blank_index)]


class ValidationMetrics(keras.callbacks.Callback):
    """After each epoch, greedy-decode the validation sets and add ``val_cer``,
    ``val_word_acc`` (over all validation sets) and ``val_<set>_cer`` / ``val_<set>_word_acc``
    to the logs. Sets named in ``test_sets`` are logged as ``test_<set>_*`` and left out of
    ``val_cer`` / ``val_word_acc``, so no checkpoint, LR or early-stopping choice sees them.
    Put it *before* callbacks that monitor these keys."""

    def __init__(self, val_sets: dict[str, tuple[np.ndarray, list[str]]], charset: Charset,
                 batch_size: int = 128, case_insensitive: set[str] | frozenset[str] = frozenset(),
                 test_sets: set[str] | frozenset[str] = frozenset()):
        super().__init__()
        self.val_sets, self.charset, self.batch_size = val_sets, charset, batch_size
        self.case_insensitive = set(case_insensitive)  # sets whose labels carry no case
        self.test_sets = set(test_sets)
        if not set(val_sets) - self.test_sets:
            raise ValueError("ValidationMetrics: every set is a test set; val_cer would have nothing to score")

    def evaluate(self) -> dict[str, float]:
        out: dict[str, float] = {}
        all_pred, all_ref = [], []
        for name, (images, texts) in self.val_sets.items():
            probs = self.model.predict(images.astype(np.float32), batch_size=self.batch_size, verbose=0)
            preds = decode_texts(probs, self.charset)
            if name in self.case_insensitive:
                preds, texts = [t.lower() for t in preds], [t.lower() for t in texts]
            m = compute_metrics(preds, texts)
            prefix = "test" if name in self.test_sets else "val"
            out[f"{prefix}_{name}_cer"] = m.cer
            out[f"{prefix}_{name}_word_acc"] = m.word_accuracy
            if name != "synthetic" and not name.startswith("synthetic-"):
                out[f"{prefix}_{name}_word_acc_std"] = m.word_accuracy_std
            if name not in self.test_sets:
                all_pred += preds
                all_ref += texts
        m = compute_metrics(all_pred, all_ref)
        out["val_cer"], out["val_word_acc"] = m.cer, m.word_accuracy
        return out

    def on_epoch_end(self, epoch, logs=None):
        metrics = self.evaluate()
        if logs is not None:
            logs.update(metrics)
        print(f"\nepoch {epoch + 1}: " + "  ".join(f"{k}={v:.4f}" for k, v in metrics.items()), flush=True)


def atomic_save_model(model: keras.Model, path: str | os.PathLike) -> None:
    """``model.save`` into a temporary file beside ``path``, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix or ".keras", dir=path.parent)
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class BestCheckpoint(keras.callbacks.Callback):
    """Save the model (atomically) whenever ``monitor`` improves; the best value survives
    restarts in ``<path>.json``."""

    def __init__(self, path: str | os.PathLike, monitor: str = "val_cer", mode: str = "min"):
        super().__init__()
        self.path, self.monitor, self.mode = Path(path), monitor, mode
        self.state_path = self.path.with_suffix(".json")
        self.best = np.inf if mode == "min" else -np.inf
        if self.state_path.is_file():
            self.best = json.loads(self.state_path.read_text())["best"]

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            logger.warning("BestCheckpoint: %s not in logs", self.monitor)
            return
        better = value < self.best if self.mode == "min" else value > self.best
        if better:
            print(f"epoch {epoch + 1}: {self.monitor} improved {self.best:.4f} -> {value:.4f}; saving {self.path}", flush=True)
            self.best = float(value)
            atomic_save_model(self.model, self.path)
            atomic_write_text(self.state_path, json.dumps({"best": self.best, "epoch": epoch + 1}))


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, but each backup is written to a temporary file and renamed,
    so a run killed (even with SIGKILL) in the middle of a save still resumes cleanly."""

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        tmp = os.path.join(self.backup_dir, "tmp.weights.h5")
        self.model.save_weights(filepath=tmp, overwrite=True)
        os.replace(tmp, self._weights_path)
        atomic_write_text(self._training_metadata_path,
                          json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}))


class TimeBudget(keras.callbacks.Callback):
    """Stop training when another epoch (as long as the last one) would cross ``minutes`` of
    training time, counted over resumes through ``state_path`` (rendering and export excluded)."""

    def __init__(self, minutes: float, state_path: str | os.PathLike):
        super().__init__()
        self.limit = minutes * 60.0
        self.state_path = Path(state_path)
        self.spent = json.loads(self.state_path.read_text())["seconds"] if self.state_path.is_file() else 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        last = time.monotonic() - self._t0
        self.spent += last
        atomic_write_text(self.state_path, json.dumps({"seconds": self.spent}))
        if self.spent + last > self.limit:
            print(f"time budget of {self.limit / 60:.0f} min reached after epoch {epoch + 1}", flush=True)
            self.model.stop_training = True


class SetLearningRate(keras.callbacks.Callback):
    """Set the optimizer's learning rate when training begins. Put it after the backup
    callback: a resumed run restores the optimizer (its old learning rate included), and an
    explicit ``--lr`` given on ``--resume`` must win."""

    def __init__(self, learning_rate: float):
        super().__init__()
        self.learning_rate = float(learning_rate)

    def on_train_begin(self, logs=None):
        self.model.optimizer.learning_rate.assign(self.learning_rate)

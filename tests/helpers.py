"""Training helpers for tests (import TensorFlow lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import TINY_VOCAB, TINY_WORDS, render_word


def tiny_dataset(config, words=TINY_WORDS, variants=(22, 28, 34)):
    from ctc_recognizer.preprocessing import fit_to_model

    images, texts = [], []
    for size in variants:
        for w in words:
            images.append(fit_to_model(render_word(w, size=size), config)[0])
            texts.append(w)
    return np.stack(images), texts


def train_tiny_model(out: Path, arch: str = "crnn_small", epochs: int = 90, vocab: str = TINY_VOCAB):
    """Fit a small model on clean rendered words until it reads them; export to ``out``.
    Returns (keras model, config, images, texts)."""
    import keras
    import tensorflow as tf

    from ctc_recognizer.charset import Charset
    from ctc_recognizer.config import RecognizerConfig
    from training.export import export_model
    from training.losses import CTCLoss
    from training.model import build_model, time_columns

    keras.utils.set_random_seed(0)
    charset = Charset(vocab)
    config = RecognizerConfig(vocab=vocab, architecture=arch, time_columns=time_columns(arch, 128))
    images, texts = tiny_dataset(config)
    labels = tf.ragged.constant([charset.encode(t) for t in texts]).to_tensor(default_value=-1)
    model = build_model(arch, charset.num_classes)
    steps = -(-len(images) // 16)
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([(epochs - 15) * steps], [1e-2, 1e-3])
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=CTCLoss(charset.blank_index), jit_compile=False)
    model.fit(images.astype(np.float32), labels.numpy(), batch_size=16, epochs=epochs, verbose=0, shuffle=True)
    export_model(model, config, out, sample_batch=images[:8].astype(np.float32))
    return model, config, images, texts


def make_labels_folder(root: Path, words) -> Path:
    """A folder of rendered words with its labels.tsv (``w<i>.png<TAB>word``)."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    for i, w in enumerate(words):
        Image.fromarray(render_word(w)).save(root / f"w{i}.png")
    (root / "labels.tsv").write_text("".join(f"w{i}.png\t{w}\n" for i, w in enumerate(words)), encoding="utf-8")
    return root


def load_script(relpath: str, name: str):
    """A script of the repository (e.g. ``bench/snapshot.py``) imported as module ``name``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / relpath)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

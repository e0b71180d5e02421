"""training.average: weight averaging ("model soup") of models that share an ancestor."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tests.conftest import TINY_WORDS, render_word  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(trained_model_dir):
    """Averaging reads model.keras: the model conftest trains, not the committed ONNX-only one."""
    return trained_model_dir


def _perturbed_copy(src, dst, scale=0.01, seed=1):
    """``src`` with every float weight nudged by a little noise (a model in the same basin)."""
    from ctc_recognizer.config import RecognizerConfig
    from training.export import export_model, load_keras

    model = load_keras(src / "model.keras")
    rng = np.random.default_rng(seed)
    model.set_weights([w + (scale * np.abs(w).mean() * rng.standard_normal(w.shape)).astype(w.dtype)
                       for w in model.get_weights()])
    export_model(model, RecognizerConfig.load(src / "config.json"), dst)
    return model


def test_the_average_has_the_mean_weights_and_still_reads(tiny_model_dir, tmp_path):
    from ctc_recognizer import Recognizer
    from training.average import average_models
    from training.export import load_keras

    b = _perturbed_copy(tiny_model_dir, tmp_path / "b")
    a = load_keras(tiny_model_dir / "model.keras")
    out = average_models([tiny_model_dir, tmp_path / "b"], tmp_path / "soup", weights=[0.25, 0.75])
    merged = load_keras(out / "model.keras")
    for wa, wb, wm in zip(a.get_weights(), b.get_weights(), merged.get_weights()):
        np.testing.assert_allclose(wm, 0.25 * wa + 0.75 * wb, rtol=1e-5, atol=1e-6)
    assert not np.allclose(a.get_weights()[0], merged.get_weights()[0])  # it really changed
    recipe = json.loads((out / "train_config.json").read_text())
    assert recipe["weights"] == [0.25, 0.75] and len(recipe["averaged"]) == 2
    rec = Recognizer.from_pretrained(str(out))  # the exported ONNX graph, as a user loads it
    preds = [p.text for p in rec([render_word(w) for w in TINY_WORDS])]
    assert preds == list(TINY_WORDS)


def test_a_model_averaged_with_itself_is_unchanged(tiny_model_dir, tmp_path):
    from ctc_recognizer import Recognizer
    from training.average import average_models

    out = average_models([tiny_model_dir, tiny_model_dir], tmp_path / "same")
    images = [render_word(w) for w in TINY_WORDS]
    p0 = Recognizer.from_pretrained(str(tiny_model_dir))
    p1 = Recognizer.from_pretrained(str(out))
    for x, y in zip(p0(images), p1(images)):
        assert x.text == y.text and abs(x.confidence - y.confidence) < 1e-5


def test_models_that_cannot_be_averaged_are_refused_with_a_clear_error(tiny_model_dir, tmp_path):
    from training.average import AverageError, average_models, main

    other = tmp_path / "other_vocab"
    shutil.copytree(tiny_model_dir, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["vocab"] = cfg["vocab"][::-1]
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(AverageError, match="differ in 'vocab'"):
        average_models([tiny_model_dir, other], tmp_path / "x")
    wide = tmp_path / "other_long_crops"
    shutil.copytree(tiny_model_dir, wide)
    cfg = json.loads((wide / "config.json").read_text())
    cfg["long_crop_width"], cfg["long_crop_threshold"] = 256, 300
    (wide / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(AverageError, match=r"read long crops differently .*\(192, 200\), \(256, 300\)"):
        average_models([tiny_model_dir, wide], tmp_path / "x")
    no_keras = tmp_path / "no_keras"
    shutil.copytree(tiny_model_dir, no_keras)
    (no_keras / "model.keras").unlink()
    with pytest.raises(AverageError, match="model.keras"):
        average_models([tiny_model_dir, no_keras], tmp_path / "x")
    with pytest.raises(AverageError, match="sum to 1"):
        average_models([tiny_model_dir, tiny_model_dir], tmp_path / "x", weights=[0.5, 0.6])
    with pytest.raises(AverageError, match="at least two"):
        average_models([tiny_model_dir], tmp_path / "x")
    with pytest.raises(SystemExit, match="error: .*differ in 'vocab'"):
        main([str(tiny_model_dir), str(other), "--output", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()  # nothing half-written

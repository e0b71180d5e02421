"""--teacher: a PaddleOCR-format recognizer (built here as a tiny ONNX graph that always reads
one word) checks heavy augmentations of real crops; training keeps those it still reads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, render_word
from tests.helpers import make_labels_folder

CHARS = list("abcdefghijklmnopqrstuvwxyz")


def make_teacher(folder: Path, word: str, metadata: bool = False) -> Path:
    """A PaddleOCR-format model folder whose rec.onnx reads ``word`` in any image: input
    (N, 3, 48, W), output (N, T, classes) softmax with blank 0, characters from 1, space last.
    The characters are in dict.txt, or in the metadata key ``character`` (as PP-OCRv6-small)."""
    import onnx
    from onnx import TensorProto, helper

    classes = len(CHARS) + 2
    frames = []
    for ch in word:  # each character, then a blank frame
        frames += [CHARS.index(ch) + 1, 0]
    logits = np.full((1, len(frames), classes), -10.0, np.float32)
    logits[0, np.arange(len(frames)), frames] = 10.0
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1, 2, 3], keepdims=1),  # (N, 1, 1, 1): ties N to the input
        helper.make_node("Reshape", ["m", "shape"], ["m3"]),                    # (N, 1, 1)
        helper.make_node("Mul", ["m3", "zero"], ["z"]),
        helper.make_node("Add", ["z", "logits"], ["l"]),                        # (N, T, C)
        helper.make_node("Softmax", ["l"], ["probs"], axis=-1),
    ]
    inits = [helper.make_tensor("shape", TensorProto.INT64, [3], [0, 1, 1]),
             helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
             onnx.numpy_helper.from_array(logits, "logits")]
    graph = helper.make_graph(nodes, "teacher", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 48, "W"])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", len(frames), classes])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    if metadata:
        helper.set_model_props(model, {"character": "\n".join(CHARS)})
    else:
        (folder / "dict.txt").write_text("\n".join(CHARS) + "\n", encoding="utf-8")
    onnx.save(model, str(folder / "rec.onnx"))
    return folder


@pytest.mark.parametrize("metadata", [False, True])
def test_a_paddleocr_format_teacher_reads_any_crop_size(tmp_path, metadata):
    from training.teacher import load_teacher

    teacher = load_teacher(str(make_teacher(tmp_path / "t", "cat", metadata=metadata)))
    crops = [render_word("dog"), render_word("river", size=60), np.zeros((5, 300, 3), np.uint8)]
    assert teacher.read(crops) == ["cat", "cat", "cat"]


def test_unknown_teachers_are_clear_errors(tmp_path):
    from training.augment import real_augment
    from training.teacher import load_teacher

    with pytest.raises(ValueError, match="nor one of ppocrv6-tiny"):
        load_teacher(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no rec.onnx"):
        load_teacher(str(tmp_path / "empty"))
    with pytest.raises(SystemExit, match="--real-augment heavy"):
        real_augment("light", teacher=str(make_teacher(tmp_path / "t", "cat")))


def test_heavy_augmentations_train_only_where_the_teacher_still_reads_the_label(tmp_path):
    from training.augment import TeacherCheckedAugment, augment_heavy, augment_light
    from training.teacher import load_teacher

    check = TeacherCheckedAugment(load_teacher(str(make_teacher(tmp_path / "t", "cat"))), tries=2)
    img = render_word("Cat", size=40)
    out = check(img, np.random.default_rng(3), "CAT")           # the teacher reads "cat": standard protocol
    assert np.array_equal(out, augment_heavy(img, np.random.default_rng(3)))
    rng = np.random.default_rng(4)
    out = check(img, rng, "dog")                                 # never read: light, after two heavy tries
    ref = np.random.default_rng(4)
    augment_heavy(img, ref), augment_heavy(img, ref)
    assert np.array_equal(out, augment_light(img, ref))
    assert (check.kept, check.fallback) == (1, 1)


def test_heavy_augmentation_distorts_more_than_light():
    from training.augment import augment_heavy, augment_light

    img = render_word("river", size=40)
    rng = np.random.default_rng(0)

    def changed(fn):  # share of augmentations that change the crop's size (geometry)
        return np.mean([fn(img, rng).shape != img.shape for _ in range(200)])

    assert changed(augment_heavy) > changed(augment_light) + 0.2


def test_training_with_a_teacher_end_to_end(tmp_path):
    pytest.importorskip("tensorflow")
    crops = make_labels_folder(tmp_path / "crops", ["cat", "dog"] * 8)
    teacher = make_teacher(tmp_path / "teacher", "cat")
    args = ["--arch", "crnn_small", "--vocab", "lower", "--data", f"folder:{crops}", "--holdout", "0.25",
            "--epochs", "1", "--steps-per-epoch", "4", "--batch-size", "8", "--threads", "2",
            "--real-augment", "heavy", "--teacher", str(teacher), "--output-dir", str(tmp_path / "run")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-m", "training.train", *args], env=env, capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(ln for ln in run.stdout.splitlines() if "--teacher" in ln and "kept" in ln)
    kept, fallback = (int(n) for n in re.findall(r"(\d+) (?:heavy augmentations kept|crops fell back)", line))
    assert kept > 0 and fallback > 0          # "cat" crops keep heavy augmentations, "dog" crops fall back
    assert (tmp_path / "run" / "model" / "model.onnx").is_file()
    # without the teacher's files the run stops before training, naming the problem
    for f in teacher.iterdir():
        f.unlink()
    run = subprocess.run([sys.executable, "-m", "training.train", *args[:-1], str(tmp_path / "run2")], env=env,
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode != 0 and "no rec.onnx" in run.stderr and "Traceback" not in run.stderr

"""--kd-teacher: frame-level distillation from a PaddleOCR-format recognizer, built here as a
tiny ONNX graph that reads one fixed word in any image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tests.conftest import TINY_WORDS, render_word  # noqa: E402
from tests.test_train_cli import crops, run_train  # noqa: E402,F401  (fixture)

CHARS = list("abcdefghijklmnopqrstuvwxyz") + ["中"]  # one character no student has


def make_teacher(folder: Path, word: str, frames: int = 32, metadata: bool = False) -> Path:
    """A PaddleOCR-format model folder whose rec.onnx reads ``word`` in any image: input
    (N, 3, 48, W), output (N, frames, classes) softmax with blank 0, characters from 1, space
    last; each character on two frames, then blanks. The characters are in dict.txt, or in
    the metadata key ``character`` (as PP-OCRv6-small)."""
    import onnx
    from onnx import TensorProto, helper

    classes = len(CHARS) + 2
    path = []
    for ch in word:
        path += [CHARS.index(ch) + 1] * 2 + [0]
    path += [0] * (frames - len(path))
    logits = np.full((1, frames, classes), -6.0, np.float32)
    logits[0, np.arange(frames), path] = 6.0
    logits[0, :, CHARS.index("中") + 1] = 2.0  # mass the student cannot take: dropped, renormalised
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
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", frames, classes])],
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


def make_blue_teacher(folder: Path) -> Path:
    """A teacher that reads "a" on each 8-column frame whose mean blue exceeds its mean red
    (channel 0 minus channel 2 of its BGR input), blank elsewhere: its frames show where the
    teacher saw colour, and in which channel order."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Split", ["x"], ["b", "g", "r"], axis=1),
        helper.make_node("Sub", ["b", "r"], ["d"]),                                   # (N, 1, 48, W)
        helper.make_node("AveragePool", ["d"], ["p"], kernel_shape=[48, 8], strides=[48, 8]),  # (N, 1, 1, W/8)
        helper.make_node("Reshape", ["p", "shape"], ["la"]),                          # (N, W/8, 1)
        helper.make_node("Mul", ["la", "scale"], ["a"]),
        helper.make_node("Mul", ["la", "zero"], ["blank"]),
        helper.make_node("Sub", ["blank", "ten"], ["space"]),
        helper.make_node("Concat", ["blank", "a", "space"], ["l"], axis=2),
        helper.make_node("Softmax", ["l"], ["probs"], axis=-1),
    ]
    inits = [helper.make_tensor("shape", TensorProto.INT64, [3], [0, -1, 1]),
             helper.make_tensor("scale", TensorProto.FLOAT, [], [10.0]),
             helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
             helper.make_tensor("ten", TensorProto.FLOAT, [], [10.0])]
    graph = helper.make_graph(nodes, "blue", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 48, "W"])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", "T", 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dict.txt").write_text("a\n", encoding="utf-8")
    onnx.save(model, str(folder / "rec.onnx"))
    return folder


def best_path(frames: np.ndarray, vocab: str) -> list[str]:
    out = []
    for row in frames.argmax(-1):
        keep = np.r_[True, row[1:] != row[:-1]] & (row != len(vocab))
        out.append("".join(vocab[c] for c in row[keep]))
    return out


@pytest.mark.parametrize("metadata", [False, True])
def test_teacher_frames_land_on_the_students_classes(tmp_path, metadata):
    from training.teacher import FrameTeacher

    vocab = "0123456789abcdefghijklmnopqrstuvwxyz"  # no 中; digits the teacher lacks
    teacher = FrameTeacher(str(make_teacher(tmp_path / "t", "cat", metadata=metadata)), vocab, time_steps=32)
    assert teacher.missing == "0123456789"
    images = np.stack([np.full((32, 128, 3), v, np.float32) for v in (0, 128, 255)])
    frames = teacher.frames(images)
    assert frames.shape == (3, 32, len(vocab) + 1)
    np.testing.assert_allclose(frames.sum(-1), 1.0, atol=1e-5)
    assert best_path(frames, vocab) == ["cat"] * 3
    assert frames[0, 0, vocab.index("c")] > 0.99  # 中's share went to the classes the student has
    assert frames[:, :, :10].max() == 0.0  # characters the teacher lacks get nothing


def test_the_teacher_sees_the_students_image_in_bgr_frame_by_frame(tmp_path):
    """Blue on the left quarter of an RGB image: the teacher (BGR input) reads "a" on exactly
    the frames that cover it, at 8 teacher columns (2 student columns x 4/3) per frame."""
    from training.teacher import FrameTeacher

    teacher = FrameTeacher(str(make_blue_teacher(tmp_path / "blue")), "ab", time_steps=32)
    image = np.full((1, 32, 128, 3), 255.0, np.float32)
    image[0, :, :32] = (0, 0, 255)  # RGB blue on columns 0..31: the student's steps 0..7
    frames = teacher.frames(image)[0]
    assert frames.shape == (32, 3)
    is_a = frames.argmax(-1) == 0
    assert is_a[:7].all() and not is_a[9:].any(), is_a.astype(int)
    assert frames[:, 1].max() == 0.0  # "b": the teacher has no such character
    image[0, :, :32] = (255, 0, 0)  # red reads nothing: the channels were not swapped twice
    assert not (teacher.frames(image)[0].argmax(-1) == 0).any()


def test_bad_teachers_are_clear_errors(tmp_path):
    from training.teacher import FrameTeacher

    vocab = "abcdefghijklmnopqrstuvwxyz"
    with pytest.raises(ValueError, match="nor one of ppocrv6-tiny"):
        FrameTeacher(str(tmp_path / "nowhere"), vocab, 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no rec.onnx"):
        FrameTeacher(str(tmp_path / "empty"), vocab, 32)
    with pytest.raises(ValueError, match="not .1, 32, 29. frames"):
        FrameTeacher(str(make_teacher(tmp_path / "t16", "cat", frames=16)), vocab, 32)
    with pytest.raises(ValueError, match="shares no character"):
        FrameTeacher(str(make_teacher(tmp_path / "t", "cat")), "0123456789", 32)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "rec.onnx").write_bytes(b"not onnx")
    with pytest.raises(ValueError, match="does not load in ONNX Runtime"):
        FrameTeacher(str(tmp_path / "junk"), vocab, 32)


def test_kd_loss_is_ctc_plus_the_kl_to_the_teachers_frames():
    import tensorflow as tf

    from training.losses import CTCLoss, KDCTCLoss

    rng = np.random.default_rng(0)
    student = tf.nn.softmax(rng.normal(size=(2, 8, 5)).astype(np.float32)).numpy()
    teacher = tf.nn.softmax(rng.normal(size=(2, 8, 5)).astype(np.float32)).numpy()
    labels = np.array([[0, 1, -1], [2, 3, 1]], np.float32)
    ctc = CTCLoss(4).call(labels, student).numpy()

    def packed(t):
        return np.concatenate([labels, t.reshape(2, -1)], axis=1)

    kd = KDCTCLoss(4, kd_weight=0.5)
    np.testing.assert_allclose(kd.call(packed(student), student).numpy(), ctc, rtol=1e-4)  # KL(s||s) = 0
    kl = (teacher * (np.log(teacher) - np.log(student))).sum(axis=(1, 2))
    np.testing.assert_allclose(kd.call(packed(teacher), student).numpy(), ctc + 0.5 * kl, rtol=1e-4)
    assert KDCTCLoss.from_config(kd.get_config()).kd_weight == 0.5


def test_a_student_trained_with_the_teacher_reads_what_the_teacher_reads(crops, tmp_path):  # noqa: F811
    """End to end through the command line: the teacher reads "cat" in every image, and a
    student distilled from it (heavily weighted) reads "cat" in images of other words, which
    the labels alone never teach. Without --kd-teacher the same run reads no "cat" there."""
    from ctc_recognizer import Recognizer

    teacher = make_teacher(tmp_path / "teacher", "cat")
    common = ["--arch", "crnn_small", "--vocab", "lower", "--data", f"folder:{crops}", "--holdout", "0.2",
              "--epochs", "3", "--steps-per-epoch", "16", "--batch-size", "8", "--lr", "0.01", "--threads", "2"]
    res = run_train([*common, "--kd-teacher", str(teacher), "--kd-weight", "20", "--output-dir", str(tmp_path / "kd")])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert f"--kd-teacher {teacher}" in res.stdout + res.stderr
    used = json.loads((tmp_path / "kd" / "train_config.json").read_text())
    assert used["kd_teacher"] == str(teacher) and used["kd_weight"] == 20
    others = [render_word(w) for w in TINY_WORDS if w != "cat"]
    read = [p.text for p in Recognizer(tmp_path / "kd" / "model")(others)]
    assert sum(t.startswith("cat") for t in read) >= 0.8 * len(others), read

    res = run_train([*common, "--output-dir", str(tmp_path / "plain")])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    read = [p.text for p in Recognizer(tmp_path / "plain" / "model")(others)]
    assert sum(t.startswith("cat") for t in read) <= 1, read


def test_an_unknown_teacher_stops_the_run_with_a_clear_error(crops, tmp_path):  # noqa: F811
    res = run_train(["--arch", "crnn_small", "--vocab", "lower", "--data", f"folder:{crops}", "--epochs", "1",
                     "--kd-teacher", "ppocrv9-huge", "--output-dir", str(tmp_path / "run")])
    assert res.returncode != 0
    assert "--kd-teacher 'ppocrv9-huge': not a folder with rec.onnx, nor one of ppocrv6-tiny" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "run").exists()  # stopped before the run folder was written

    teacher = make_teacher(tmp_path / "teacher", "cat")
    for bad, says in ((["--arch", "seed", "--kd-teacher", str(teacher)], "seed's steps run along rows"),
                      (["--kd-teacher", str(teacher), "--kd-weight", "-1"], "--kd-weight must be >= 0")):
        res = run_train(["--vocab", "lower", "--data", f"folder:{crops}", *bad, "--output-dir", str(tmp_path / "run")])
        assert res.returncode != 0 and says in res.stderr, res.stderr[-2000:]
        assert not (tmp_path / "run").exists()


def test_teacher_names_and_cache_are_the_ones_the_fetch_script_fills():
    from tests.helpers import load_script
    from training.teacher import PEER_NAMES, PEERS_DIR

    fetch = load_script("scripts/fetch_peer_models.py", "fetch_peer_models")
    assert set(PEER_NAMES) == set(fetch.PEERS) and PEERS_DIR == fetch.DEFAULT_DIR

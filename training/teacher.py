"""Frame-level distillation from a PaddleOCR-format recognizer (``--kd-teacher``).

The teacher reads every training batch as the student sees it: the student's model-size
images (RGB, ``(N, H, W, 3)``, 0..255), resized to 48 x (8 x T) so that its CTC frames
(one per 8 columns) line up one to one with the student's ``T`` time steps. Its softmax
frames are mapped onto the student's classes: each student character takes the teacher's
probability of the same character (the space too, if the student's vocabulary has one), the
blank takes the teacher's blank; what the teacher puts on characters the student does not
have (other scripts) is dropped and the rest renormalised. The student's time steps must run
left to right across the image (``crnn``, ``crnn_small``; not ``seed``). :class:`training.losses.KDCTCLoss` adds ``kd_weight x`` the KL divergence
from these frames to the student's, summed over frames, to the CTC loss.

Meant for a student trained **from scratch**: a student that already has its own alignment
fights the teacher's (the two networks' CTC peaks sit 1-5 frames apart; issue 23's
calibration lost 10 points fine-tuning the bundled model this way).

A teacher is a folder holding ``rec.onnx`` (input ``(N, 3, 48, W)`` BGR scaled to
``(x / 255 - 0.5) / 0.5``, output ``(N, W / 8, classes)`` softmax, blank 0, characters
from 1, space last) and, unless the model's metadata key ``character`` lists them,
``dict.txt`` (one character per line) - or the name of a model that
``scripts/fetch_peer_models.py`` cached (``ppocrv6-tiny``, ``ppocrv6-small``, ``ppocrv4``).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

#: where ``scripts/fetch_peer_models.py`` caches the PaddleOCR models (``$CTC_PEERS_DIR`` when set)
PEERS_DIR = Path(os.environ.get("CTC_PEERS_DIR", Path.home() / ".cache" / "ctc-recognizer" / "peers"))
PEER_NAMES = ("ppocrv6-tiny", "ppocrv6-small", "ppocrv4")
HEIGHT = 48
STRIDE = 8


def load_charset(folder: Path, session) -> list[str]:
    """Class index -> character of a PaddleOCR recognizer: blank, its characters, space."""
    meta = session.get_modelmeta().custom_metadata_map
    if "character" in meta:
        chars = meta["character"].splitlines()
    elif (Path(folder) / "dict.txt").is_file():
        chars = (Path(folder) / "dict.txt").read_text(encoding="utf-8").splitlines()
    else:
        raise ValueError(f"{Path(folder).name}: no dict.txt and no 'character' metadata in rec.onnx")
    return ["", *chars, " "]


def teacher_folder(spec: str) -> Path:
    """``spec``: a folder with ``rec.onnx``, or a cached peer's name."""
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not (folder / "rec.onnx").is_file():
            raise ValueError(f"--kd-teacher {spec}: no rec.onnx in that folder")
        return folder
    if spec not in PEER_NAMES:
        raise ValueError(f"--kd-teacher {spec!r}: not a folder with rec.onnx, nor one of {', '.join(PEER_NAMES)}")
    folder = PEERS_DIR / spec
    if not (folder / "rec.onnx").is_file():
        raise ValueError(f"--kd-teacher {spec}: not fetched yet; run python scripts/fetch_peer_models.py")
    return folder


class FrameTeacher:
    """``frames(images)``: the teacher's CTC frames for a batch of student-size images,
    ``(N, H, W, C)`` float 0..255 RGB (or grey) -> ``(N, T, len(vocab) + 1)`` float32,
    each frame a distribution over the student's classes (blank last)."""

    def __init__(self, spec: str, vocab: str, time_steps: int, threads: int | None = 1):
        import onnxruntime as ort

        folder = teacher_folder(spec)
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(folder / "rec.onnx"), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own errors are long C++ traces
            raise ValueError(f"--kd-teacher {spec}: rec.onnx does not load in ONNX Runtime ({str(exc).splitlines()[0]})") from None
        self.input_name = self.session.get_inputs()[0].name
        chars = load_charset(folder, self.session)
        index: dict[str, int] = {}
        for j, ch in enumerate(chars[1:], start=1):
            index.setdefault(ch, j)
        #: student class -> teacher class (-1: the teacher has no such character); blank <- blank
        self.gather = np.asarray([index.get(ch, -1) for ch in vocab] + [0], np.int64)
        self.known = self.gather >= 0
        if not self.known[:-1].any():
            raise ValueError(f"--kd-teacher {spec}: it shares no character with the student's vocabulary")
        self.missing = "".join(ch for ch, k in zip(vocab, self.known) if not k)
        self.time_steps, self.num_classes = int(time_steps), len(vocab) + 1
        self.width = STRIDE * self.time_steps
        frames = self.session.run(None, {self.input_name: np.zeros((1, 3, HEIGHT, self.width), np.float32)})[0]
        if frames.ndim != 3 or frames.shape[1] != self.time_steps or frames.shape[2] != len(chars):
            raise ValueError(f"--kd-teacher {spec}: a 48x{self.width} input gives output {frames.shape}, not "
                             f"(1, {self.time_steps}, {len(chars)}) frames: not a PaddleOCR-format recognizer "
                             f"that matches the student's {self.time_steps} time steps")

    def teacher_input(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        out = np.empty((len(images), 3, HEIGHT, self.width), np.float32)
        for i, img in enumerate(images):
            bgr = cv2.resize(np.ascontiguousarray(img[:, :, ::-1]), (self.width, HEIGHT), interpolation=cv2.INTER_LINEAR)
            out[i] = ((bgr / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
        return out

    def frames(self, images: np.ndarray) -> np.ndarray:
        probs = self.session.run(None, {self.input_name: self.teacher_input(images)})[0]
        mapped = np.where(self.known, probs[:, :, np.maximum(self.gather, 0)], 0.0).astype(np.float32)
        mapped[:, :, -1] += 1e-6  # a frame whose mass is all on characters the student lacks -> blank
        return mapped / mapped.sum(-1, keepdims=True)


def attach_teacher(ds, teacher: FrameTeacher):
    """``(images, labels)`` batches -> ``(images, y)``, ``y`` = the labels (as float) followed
    by the teacher's flattened frames: the packed target :class:`training.losses.KDCTCLoss` reads."""
    import tensorflow as tf

    T, C = teacher.time_steps, teacher.num_classes

    def add(images, labels):
        frames = tf.numpy_function(teacher.frames, [images], tf.float32, stateful=False)
        frames.set_shape((None, T, C))
        flat = tf.reshape(frames, (tf.shape(frames)[0], T * C))
        return images, tf.concat([tf.cast(labels, tf.float32), flat], axis=1)

    return ds.map(add, num_parallel_calls=2, deterministic=True).prefetch(2)

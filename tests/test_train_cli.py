"""The training command line, end to end: config file, train, export, load; kill and resume;
MirroredStrategy over two logical CPUs."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY_WORDS, render_word
from tests.test_training import make_labels_folder

pytest.importorskip("tensorflow")


def run_train(args, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, "-m", "training.train", *args], env=env, capture_output=True,
                          text=True, timeout=600, cwd=ROOT, **kw)


def history_epochs(run: Path) -> list[int]:
    with open(run / "history.csv", newline="") as f:
        return [int(r["epoch"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def crops(tmp_path_factory) -> Path:
    return make_labels_folder(tmp_path_factory.mktemp("data") / "crops", TINY_WORDS)


def base_args(crops: Path, out: Path, epochs: int = 3) -> list[str]:
    return ["--arch", "crnn_small", "--vocab", "lower", "--data", f"folder:{crops}", "--holdout", "0.2",
            "--epochs", str(epochs), "--steps-per-epoch", "8", "--batch-size", "8", "--output-dir", str(out),
            "--threads", "2"]


@pytest.mark.slow  # a full training run (minutes on 2 cores); scripts/test.sh -m "" runs it
def test_train_from_config_file_exports_a_loadable_model(crops, tmp_path):
    """Also: a --holdout-list source is a test set, scored (test_*) but outside val_cer."""
    shelf = make_labels_folder(tmp_path / "shelf", TINY_WORDS[:10])
    listing = tmp_path / "test_list.txt"
    listing.write_text("".join(f"shelf/w{i}.png\n" for i in range(4)))
    cfg = tmp_path / "train.yaml"
    cfg.write_text(f"arch: crnn_small\nvocab: lower\ndata: [folder:{crops}, folder:{shelf}]\nholdout: 0.2\n"
                   f"holdout_list: {listing}\nepochs: 2\nsteps_per_epoch: 8\nbatch_size: 8\nlr: 0.003\n"
                   "real_augment: heavy\n")
    out = tmp_path / "run"
    res = run_train(["--config", str(cfg), "--output-dir", str(out)])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    used = json.loads((out / "train_config.json").read_text())
    assert used["arch"] == "crnn_small" and used["lr"] == 0.003 and used["epochs"] == 2
    assert used["real_augment"] == "heavy"
    assert history_epochs(out) == [0, 1]
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert "test_shelf_cer" in rows[0] and "val_shelf_cer" not in rows[0]
    assert all(r["val_cer"] == r["val_crops_cer"] for r in rows)  # the test set never enters val_cer
    for name in ("model.keras", "model.onnx", "config.json"):
        assert (out / "model" / name).is_file()
    assert (out / "best.keras").is_file() and any((out / "logs").iterdir())
    from ctc_recognizer import Recognizer

    rec = Recognizer.from_pretrained(out / "model")
    assert rec.config.architecture == "crnn_small"
    assert set(rec.config.metrics["validation"]) == {"crops"}
    assert set(rec.config.metrics["test"]) == {"shelf"} and rec.config.metrics["test"]["shelf"]["count"] == 4
    assert isinstance(rec(render_word("cat")).text, str)
    # the run folder is not overwritten by accident
    again = run_train(["--config", str(cfg), "--output-dir", str(out)])
    assert again.returncode != 0 and "--resume" in again.stderr


def test_unknown_label_character_stops_with_a_clear_error(tmp_path):
    bad = make_labels_folder(tmp_path / "bad", ["cat", "Über"])
    res = run_train(base_args(bad, tmp_path / "run") + ["--vocab", "alnum"])
    assert res.returncode != 0
    assert "'Über'" in res.stderr and "'Ü'" in res.stderr and "--unknown-chars skip" in res.stderr


def test_bad_dropout_rate_stops_before_anything_is_written(crops, tmp_path):
    res = run_train(base_args(crops, tmp_path / "run") + ["--dropout", "1.5"])
    assert res.returncode != 0 and "--dropout must be in [0, 1), got 1.5" in res.stderr
    assert not (tmp_path / "run").exists()


def test_init_from_a_model_of_other_geometry_stops_with_a_clear_error(crops, tmp_path):
    """A bare .keras file (no config.json beside it) whose classes differ from the run's vocab:
    a clear error before anything is built or written, not a silently re-initialised head."""
    import shutil

    from training.locate import keras_model

    bare = tmp_path / "bare" / "old.keras"
    bare.parent.mkdir()
    shutil.copyfile(keras_model("default")[0], bare)  # training/pretrained/default/model.keras
    out = tmp_path / "run"
    res = run_train(base_args(crops, out) + ["--init-from", str(bare)])
    assert res.returncode != 0
    assert "outputs 90 classes" in res.stderr and "give --init-from a model folder" in res.stderr
    assert not (out / "train_config.json").exists()


@pytest.mark.slow  # a full training run (minutes on 2 cores); scripts/test.sh -m "" runs it
def test_killed_run_resumes_where_it_stopped(crops, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.Popen([sys.executable, "-m", "training.train", *base_args(crops, out, epochs=6)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta = out / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            if meta.is_file() and json.loads(meta.read_text() or "{}").get("epoch", 0) >= 2:
                break
            if proc.poll() is not None:
                pytest.fail("training ended before it could be killed")
            time.sleep(0.2)
        else:
            pytest.fail("no backup written in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = json.loads(meta.read_text())["epoch"]
    assert 2 <= done < 6
    assert not (out / "model").exists()  # it really was interrupted
    res = run_train(base_args(crops, out, epochs=6) + ["--resume", "--lr", "0.0005"])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "learning rate set to 0.0005" in res.stdout
    assert f"resuming after epoch {done}" in res.stdout
    assert f"Epoch {done + 1}/6" in res.stdout and "Epoch 1/6" not in res.stdout
    assert history_epochs(out) == list(range(6))  # every epoch once, in order
    with open(out / "history.csv", newline="") as f:
        rates = [float(r["learning_rate"]) for r in csv.DictReader(f)]
    assert rates[done:] == [pytest.approx(0.0005)] * (6 - done)  # --lr on --resume wins
    assert (out / "model" / "model.onnx").is_file()


@pytest.mark.slow  # a full training run (minutes on 2 cores); scripts/test.sh -m "" runs it
def test_mirrored_strategy_on_two_logical_cpus(crops, tmp_path):
    out = tmp_path / "run"
    res = run_train(base_args(crops, out, epochs=1) + ["--strategy", "mirrored", "--logical-cpus", "2"])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    log = res.stdout + res.stderr
    assert "MirroredStrategy" in log and "CPU:0" in log and "CPU:1" in log
    assert (out / "model" / "model.onnx").is_file()

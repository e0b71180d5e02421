"""--val-list: crops named in it never train and are a validation set (used to pick the
checkpoint), beside the --holdout-list test set."""

from pathlib import Path

import pytest

from ctc_recognizer.charset import ALPHANUMERIC, Charset
from ctc_recognizer.config import RecognizerConfig
from tests.conftest import render_word

pytest.importorskip("tensorflow")  # training.assemble reads images with the training stack

ROOT = Path(__file__).resolve().parents[1]


def make_labels_folder(root: Path, words) -> Path:
    from PIL import Image

    root.mkdir(parents=True)
    for i, w in enumerate(words):
        Image.fromarray(render_word(w)).save(root / f"w{i}.png")
    (root / "labels.tsv").write_text("".join(f"w{i}.png\t{w}\n" for i, w in enumerate(words)), encoding="utf-8")
    return root


def test_val_list_crops_are_validation_and_never_train(tmp_path):
    from training.train import parse_args, prepare_data

    shelf = make_labels_folder(tmp_path / "shelf", ["cat", "dog", "tree", "house", "river", "stone"])
    crops = make_labels_folder(tmp_path / "crops", ["green", "light", "apple", "zebra", "mouse"])
    (tmp_path / "test.txt").write_text("shelf/w0.png\n")
    (tmp_path / "val.txt").write_text("# real validation\nshelf/w2.png\nshelf/w4.png\ncrops/w1.png\n")
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    args = parse_args(["--data", f"folder:{shelf}", f"folder:{crops}", "--holdout-list", str(tmp_path / "test.txt"),
                       "--val-list", str(tmp_path / "val.txt"), "--output-dir", str(tmp_path / "run")])
    sources, val_sets, _, test_sets = prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    assert test_sets == {"shelf"} and val_sets["shelf"][1] == ["cat"]          # the test crops, as before
    assert val_sets["shelf-val"][1] == ["tree", "river"]                       # listed: validation
    assert val_sets["crops"][1] == ["light"]                                   # replaces the --holdout share
    assert sources[0].samples.texts == ["dog", "house", "stone"]               # neither trains
    assert sources[1].samples.texts == ["green", "apple", "zebra", "mouse"]


def test_without_val_list_the_test_sources_have_no_real_validation(tmp_path):
    from training.train import parse_args, prepare_data

    shelf = make_labels_folder(tmp_path / "shelf", ["cat", "dog", "tree", "house"])
    (tmp_path / "test.txt").write_text("shelf/w0.png\n")
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    args = parse_args(["--data", f"folder:{shelf}", "synthetic-clean", "--holdout-list", str(tmp_path / "test.txt"),
                       "--synth-train-size", "16", "--synth-val-size", "8", "--synth-clean-train-size", "16",
                       "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "run")])
    sources, val_sets, _, test_sets = prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    assert "shelf-val" not in val_sets and sources[0].samples.texts == ["dog", "tree", "house"]


def test_committed_val_list_is_disjoint_from_the_test_list():
    from training.data import read_holdout_list

    test = read_holdout_list(ROOT / "training" / "splits" / "real_holdout.txt")
    val = read_holdout_list(ROOT / "training" / "splits" / "real_val.txt")
    assert len(val) == 611 and not set(val) & set(test)
    assert {k.split("/")[0] for k in val} == {"iiit5k-train", "svt-train", "ic15-train", "ic03-train-filtered"}

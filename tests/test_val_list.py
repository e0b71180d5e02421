"""--val-list: crops named in it never train and are a validation set (used to pick the
checkpoint), beside the --holdout-list test set."""

from pathlib import Path

import pytest

from ctc_recognizer.charset import ALPHANUMERIC, Charset
from ctc_recognizer.config import RecognizerConfig
from tests.helpers import make_labels_folder


pytest.importorskip("tensorflow")  # training.assemble reads images with the training stack

ROOT = Path(__file__).resolve().parents[1]


def test_val_list_crops_are_validation_and_never_train(tmp_path):
    from training.assemble import prepare_data
    from training.options import parse_args

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
    from training.assemble import prepare_data
    from training.options import parse_args

    shelf = make_labels_folder(tmp_path / "shelf", ["cat", "dog", "tree", "house"])
    other = make_labels_folder(tmp_path / "other", ["green", "light", "apple", "zebra", "mouse", "river"])
    (tmp_path / "test.txt").write_text("shelf/w0.png\n")
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    # a second folder (not named by the list) supplies the validation, as a synthetic source would
    args = parse_args(["--data", f"folder:{shelf}", f"folder:{other}", "--holdout-list", str(tmp_path / "test.txt"),
                       "--holdout", "0.5", "--output-dir", str(tmp_path / "run")])
    sources, val_sets, _, test_sets = prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    assert test_sets == {"shelf"} and val_sets["shelf"][1] == ["cat"]
    assert "shelf-val" not in val_sets and sources[0].samples.texts == ["dog", "tree", "house"]
    assert len(val_sets["other"][1]) > 0                                       # the unnamed source: --holdout
    assert sorted(val_sets["other"][1] + sources[1].samples.texts) == sorted(
        ["green", "light", "apple", "zebra", "mouse", "river"])


def test_lists_apply_when_val_data_is_given(tmp_path):
    """With --val-data, the listed test and validation crops still never train (only the
    --holdout share is skipped: --val-data is the validation)."""
    from training.assemble import prepare_data
    from training.options import parse_args

    shelf = make_labels_folder(tmp_path / "shelf", ["cat", "dog", "tree", "house", "river", "stone"])
    crops = make_labels_folder(tmp_path / "crops", ["green", "light", "apple", "zebra", "mouse"])
    extra = make_labels_folder(tmp_path / "extra", ["one", "two"])
    (tmp_path / "test.txt").write_text("shelf/w0.png\n")
    (tmp_path / "val.txt").write_text("shelf/w2.png\ncrops/w1.png\n")
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    args = parse_args(["--data", f"folder:{shelf}", f"folder:{crops}", "--holdout-list", str(tmp_path / "test.txt"),
                       "--val-list", str(tmp_path / "val.txt"), "--val-data", f"folder:{extra}",
                       "--output-dir", str(tmp_path / "run")])
    sources, val_sets, _, test_sets = prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    assert test_sets == {"shelf"} and val_sets["shelf"][1] == ["cat"]
    assert val_sets["shelf-val"][1] == ["tree"] and val_sets["crops"][1] == ["light"]
    assert val_sets["extra"][1] == ["one", "two"]
    assert sources[0].samples.texts == ["dog", "house", "river", "stone"]     # all the rest trains
    assert sources[1].samples.texts == ["green", "apple", "zebra", "mouse"]


def test_val_list_that_matches_no_crop_is_refused(tmp_path):
    from training.assemble import prepare_data
    from training.options import parse_args

    shelf = make_labels_folder(tmp_path / "shelf", ["cat", "dog", "tree"])
    (tmp_path / "val.txt").write_text("elsewhere/w0.png\nshelf/missing.png\n")
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    args = parse_args(["--data", f"folder:{shelf}", "--val-list", str(tmp_path / "val.txt"),
                       "--output-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit, match=r"--val-list .*val\.txt: none of its 2 crops is in a --data source"):
        prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)


@pytest.mark.parametrize("flag, expected", [(None, 1.0), ("0.3", 1.0)])
def test_synthetic_curved_keeps_its_curved_share(tmp_path, monkeypatch, flag, expected):
    """--synth-curved-text (default 0) never lowers the synthetic-curved source's own share."""
    import numpy as np

    from training import data as D
    from training import synth_cache
    from training.assemble import prepare_data
    from training.options import parse_args

    specs = []

    def fake_synthetic_set(spec, n, config, cache_dir=None, workers=None, source=None):  # the spec, not pixels
        specs.append(spec)
        return D.ArraySampleSet(np.zeros((2, 32, 128, 3), np.uint8), ["ab", "cd"], "fake")

    monkeypatch.setattr(synth_cache, "synthetic_set", fake_synthetic_set)
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    argv = ["--data", "synthetic-curved", "synthetic-words", "--output-dir", str(tmp_path / "run")]
    args = parse_args(argv + (["--synth-curved-text", flag] if flag else []))
    prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    train_specs = [s for s in specs if s.split == "train"]
    assert [s.curved_text for s in train_specs] == [expected, float(flag or 0.0)]
    # validation: the curved source's own renders are curved; the flag never reaches validation
    assert [s.curved_text for s in specs if s.split == "val"] == [1.0, 0.0]


def test_committed_val_list_is_disjoint_from_the_test_list():
    from training.data import read_holdout_list

    test = read_holdout_list(ROOT / "training" / "splits" / "real_holdout.txt")
    val = read_holdout_list(ROOT / "training" / "splits" / "real_val.txt")
    assert len(val) == 611 and not set(val) & set(test)
    assert {k.split("/")[0] for k in val} == {"iiit5k-train", "svt-train", "ic15-train", "ic03-train-filtered"}

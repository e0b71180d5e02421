"""Real-image support: the standard scene-text metrics, case-insensitive sources (SVT),
the committed holdout list, the realistic synthetic generator, the cosine LR schedule."""

import math
from pathlib import Path

import numpy as np
import pytest

from ctc_recognizer import compute_metrics, standard_text
from ctc_recognizer.charset import DEFAULT_VOCAB, Charset
from tests.conftest import TINY_WORDS, render_word

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HOLDOUT = ROOT / "training" / "splits" / "real_holdout.txt"


# ---------------------------------------------------------------- metrics
def test_standard_protocol_lowercases_and_keeps_letters_and_digits():
    assert standard_text("Hotel-42!") == "hotel42"
    m = compute_metrics(["Hotel", "CAFE.", "dog", "x"], ["HOTEL", "cafe", "d0g", "x"])
    assert m.word_accuracy == 0.25  # only "x" is exact
    assert m.word_accuracy_ci == 0.5  # "Hotel"/"HOTEL" and "x"
    assert m.word_accuracy_std == 0.75  # punctuation no longer counts either
    assert m.cer_std == pytest.approx(1 / 13)  # one substitution in hotel+cafe+d0g+x
    # a reference that is all punctuation is empty under the protocol: an empty read matches it
    assert compute_metrics([""], ["!!"]).word_accuracy_std == 1.0


# ---------------------------------------------------------------- case-insensitive sources
def test_case_fold_map_sends_upper_to_lower():
    cs = Charset("ab1AB-")
    assert cs.has_both_cases
    assert cs.case_fold_map() == [0, 1, 2, 0, 1, 5, 6]  # A->a, B->b, blank (6) stays
    assert not Charset("abc").has_both_cases
    assert Charset("abc").case_fold_map() == [0, 1, 2, 3]


def test_case_insensitive_labels_are_scored_against_folded_probabilities():
    tf = pytest.importorskip("tensorflow")
    from ctc_recognizer.decoding import ctc_log_likelihood
    from training.data import encode_label
    from training.losses import CTCLoss

    cs = Charset("abAB")  # blank = 4, 5 classes
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=(2, 8)).astype(np.float32)
    exact = encode_label("aB", cs)  # case-sensitive row
    folded = encode_label("AB", cs, case_insensitive=True)  # SVT-style row: lower-cased + offset
    assert exact.tolist() == [0, 3] and folded.tolist() == [0 + 5, 1 + 5]
    labels = np.full((2, 2), -1, np.int32)
    labels[0], labels[1] = exact, folded
    loss = CTCLoss(cs.blank_index, case_fold=cs.case_fold_map()).call(tf.constant(labels), tf.constant(probs)).numpy()
    assert loss[0] == pytest.approx(-ctc_log_likelihood(probs[0], [0, 3], 4), rel=1e-4)
    merged = probs[1].copy()
    merged[:, 0] += merged[:, 2]  # p(a) + p(A)
    merged[:, 1] += merged[:, 3]  # p(b) + p(B)
    merged[:, 2:4] = 0
    assert loss[1] == pytest.approx(-ctc_log_likelihood(merged, [0, 1], 4), rel=1e-4)
    # whatever case the model reads, a case-insensitive row costs the same
    swapped = probs[1][:, [2, 3, 0, 1, 4]][None]
    loss_swapped = CTCLoss(4, case_fold=cs.case_fold_map()).call(tf.constant(labels[1:]), tf.constant(swapped))
    assert float(loss_swapped.numpy()[0]) == pytest.approx(float(loss[1]), rel=1e-5)


# ---------------------------------------------------------------- holdout list
def test_holdout_list_splits_named_files_out(tmp_path):
    from tests.test_training import make_labels_folder
    from training.data import holdout_by_list, parse_data_spec, read_holdout_list

    make_labels_folder(tmp_path / "src", TINY_WORDS)
    samples = parse_data_spec(f"folder:{tmp_path / 'src'}")
    names = sorted(p.name for p in samples.paths)
    listing = tmp_path / "holdout.txt"
    listing.write_text(f"# comment\nsrc/{names[0]}\nsrc/{names[3]}\nother/{names[5]}\n")
    keys = read_holdout_list(listing)
    train, val = holdout_by_list(samples, keys)
    assert len(val) == 2 and len(train) == len(samples) - 2
    assert set(train.texts).isdisjoint(val.texts)
    assert holdout_by_list(samples, {"elsewhere/x.jpg"}) is None  # not named: caller falls back
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(ValueError, match="empty"):
        read_holdout_list(tmp_path / "empty.txt")


def test_real_holdout_sets_finds_sources_by_folder_name(tmp_path):
    from tests.test_training import make_labels_folder
    from training.data import REAL_HOLDOUT_LIST, real_holdout_sets

    assert REAL_HOLDOUT_LIST == HOLDOUT
    make_labels_folder(tmp_path / "data" / "group" / "src", TINY_WORDS[:6])
    listing = tmp_path / "holdout.txt"
    listing.write_text("src/w1.png\nsrc/w4.png\nmissing/w0.png\n")
    with pytest.raises(FileNotFoundError, match="missing/labels.tsv"):
        real_holdout_sets(tmp_path / "data", listing)
    sets = real_holdout_sets(tmp_path / "data", listing, skip_missing=True)
    assert list(sets) == ["src"] and sets["src"].texts == [TINY_WORDS[1], TINY_WORDS[4]]


def test_committed_holdout_list_is_ten_percent_of_every_source():
    keys = [ln for ln in HOLDOUT.read_text().splitlines() if ln and not ln.startswith("#")]
    by_source = {}
    for k in keys:
        by_source.setdefault(k.split("/")[0], []).append(k)
    assert set(by_source) == {"iiit5k-train", "svt-train", "ic15-train", "ic03-train-filtered"}
    assert len(keys) == len(set(keys)) == 745
    if not (SHARED / "iiit5k-train" / "labels.tsv").is_file():
        pytest.skip("../shared/data is not on this machine")
    from training.data import holdout_key, holdout_split, read_labels_tsv

    for folder in ("iiit5k-train", "real-train/svt-train", "real-train/ic15-train",
                   "real-train/ic03-train-filtered"):
        samples = read_labels_tsv(SHARED / folder)
        _, val = holdout_split(samples, 0.1)  # the rule the list was written with
        assert sorted(holdout_key(val, i) for i in range(len(val))) == sorted(by_source[Path(folder).name])


# ---------------------------------------------------------------- realistic synthetic words
def test_realistic_renderer_uses_backgrounds_and_stays_valid(tmp_path):
    from PIL import Image

    from training.synth import RenderSpec, WordRenderer

    bgs = []
    for i, colour in enumerate([(200, 30, 30), (20, 120, 200)]):
        p = tmp_path / f"bg{i}.jpg"
        Image.fromarray(render_word("SALE", bg=colour, fg=(255, 255, 255))).save(p)
        bgs.append(p)
    r = WordRenderer(RenderSpec("train", seed=3, backgrounds=bgs))
    cs = Charset(DEFAULT_VOCAB)
    for i in range(150):
        img, text = r.render(i)
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
        assert img.shape[0] >= 2 and img.shape[1] >= 2
        assert text and not cs.unknown_characters(text)
    assert r._bg_cache, "no rendered word borrowed a real background"
    # the clean (held-out benchmark) rendering is dark text on white, the same every time
    clean = WordRenderer(RenderSpec("test", seed=1234, augment=False))
    a, ta = clean.render(0)
    b, tb = WordRenderer(RenderSpec("test", seed=1234, augment=False)).render(0)
    assert ta == tb and np.array_equal(a, b)
    assert a[0, 0].tolist() == [255, 255, 255] and a.min() < 60


def test_cosine_schedule_runs_from_lr_to_min_lr():
    pytest.importorskip("tensorflow")
    from training.train import cosine_schedule

    f = cosine_schedule(1e-3, 1e-5, 11)
    assert f(0) == pytest.approx(1e-3)
    assert f(5) == pytest.approx((1e-3 + 1e-5) / 2)
    assert f(10) == pytest.approx(1e-5) and f(30) == pytest.approx(1e-5)
    assert all(f(e) >= f(e + 1) for e in range(12))
    assert not math.isnan(f(0))

"""Trainer: architectures, CTC loss, data sources, export, Hub upload."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ctc_recognizer.charset import ALPHANUMERIC, Charset
from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.errors import UnknownCharacterError
from tests.conftest import TINY_VOCAB, TINY_WORDS, render_word

tf = pytest.importorskip("tensorflow")


@pytest.fixture(scope="session")
def tiny_model_dir(trained_model_dir):
    """Tests here read model.keras: the model conftest trains, not the committed ONNX-only one."""
    return trained_model_dir


def test_seed_architecture_has_reference_parameter_count():
    from training.model import build_model

    model = build_model("seed", Charset(ALPHANUMERIC).num_classes)
    assert model.count_params() == 252_799
    assert model.output_shape == (None, 256, 63)
    assert not any(type(l).__name__ == "Lambda" for l in model.layers)


def test_crnn_reads_columns_left_to_right():
    from training.model import build_model

    model = build_model("crnn", 90)
    assert model.output_shape == (None, 32, 90)
    assert model.count_params() == 574_506  # the bundled model's network: its layer names and sizes stay

    from training.model import ARCHITECTURES
    from training.options import build_parser

    arch = next(a for a in build_parser()._actions if a.dest == "arch")
    assert set(arch.choices) == set(ARCHITECTURES)  # the parser lists them without importing Keras

    wide = build_model("crnn_wide", 90)
    assert wide.output_shape == (None, 32, 90) and wide.count_params() == 782_330
    names = {layer.name for layer in wide.layers}
    assert {"s3c_pw", "s4c_pw", "s3_add2", "s4_add2"} <= names and "s3c_pw" not in {l.name for l in model.layers}


def test_warm_start_converts_the_old_column_layout_exactly():
    """Models saved with the row-major column layout ("hc") warm-start the current channel-major
    one ("ch") with identical outputs; layers that do not match by name and shape are reported."""
    from training.model import build_crnn, transfer_weights

    rng = np.random.default_rng(0)
    old = build_crnn(40, filters=(8, 8, 16, 16), lstm_units=16, lstm_layers=2, column_order="hc")
    for layer in old.layers:  # random weights everywhere, batch-norm statistics included
        layer.set_weights([rng.normal(0.5, 0.3, w.shape).astype("float32") ** 2 if "moving_variance" in v.path
                           else rng.normal(0, 0.3, w.shape).astype("float32")
                           for w, v in zip(layer.get_weights(), layer.weights)])
    new = build_crnn(40, filters=(8, 8, 16, 16), lstm_units=16, lstm_layers=2)
    copied, fresh = transfer_weights(old, new)
    assert fresh == [] and "bilstm1" in copied
    x = rng.uniform(0, 255, (4, 32, 128, 3)).astype("float32")
    np.testing.assert_allclose(new.predict(x, verbose=0), old.predict(x, verbose=0), atol=1e-5)

    wider = build_crnn(40, filters=(8, 8, 16, 24), lstm_units=16, lstm_layers=2)
    copied, fresh = transfer_weights(old, wider)
    assert "s1_conv" in copied and "s4a_pw" in fresh and "bilstm1" in fresh


def test_dropout_can_be_turned_off_without_changing_the_weights():
    """--dropout 0 builds the same network without dropout layers: a model trained with dropout
    warm-starts it exactly (dropout is only active in training), and bad rates are refused."""
    from training.model import build_model, transfer_weights

    with_dropout = build_model("crnn_small", 40, dropout=0.2)
    without = build_model("crnn_small", 40, dropout=0.0)
    kinds = lambda m: {type(l).__name__ for l in m.layers}  # noqa: E731
    assert {"Dropout", "SpatialDropout2D"} <= kinds(with_dropout)
    assert not {"Dropout", "SpatialDropout2D"} & kinds(without)
    assert with_dropout.count_params() == without.count_params()
    copied, fresh = transfer_weights(with_dropout, without)
    assert fresh == []
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 128, 3)).astype("float32")
    np.testing.assert_allclose(without.predict(x, verbose=0), with_dropout.predict(x, verbose=0), atol=1e-6)
    assert build_model("seed", 63).count_params() == build_model("seed", 63, dropout=0.0).count_params()
    with pytest.raises(ValueError, match="dropout"):
        build_model("crnn", 40, dropout=1.5)


def test_ctc_loss_matches_tf_dense_and_forward_algorithm():
    from ctc_recognizer.decoding import ctc_log_likelihood
    from training.losses import CTCLoss

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(6), size=(3, 12)).astype(np.float32)  # blank = 5
    labels = np.array([[0, 1, 2, -1], [3, 3, -1, -1], [4, 0, 4, 1]], np.int32)
    ours = CTCLoss(blank_index=5).call(tf.constant(labels), tf.constant(probs)).numpy()
    lengths = (labels >= 0).sum(1)
    ref = tf.nn.ctc_loss(labels=tf.constant(np.where(labels < 0, 0, labels)), logits=tf.math.log(probs),
                         label_length=tf.constant(lengths), logit_length=tf.fill([3], 12),
                         logits_time_major=False, blank_index=5).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
    for i in range(3):
        want = -ctc_log_likelihood(probs[i], labels[i][labels[i] >= 0], 5)
        assert ours[i] == pytest.approx(want, rel=1e-4)
    # padding is not scored: the same label padded longer gives the same loss
    padded = np.pad(labels, ((0, 0), (0, 3)), constant_values=-1)
    np.testing.assert_allclose(CTCLoss(5).call(tf.constant(padded), tf.constant(probs)).numpy(), ours, rtol=1e-6)


# ---------------------------------------------------------------- data sources
def _save(img: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def make_labels_folder(root: Path, words) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, w in enumerate(words):
        _save(render_word(w), root / f"w{i}.png")
        lines.append(f"w{i}.png\t{w}")
    (root / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_folder_source(tmp_path):
    from training.data import parse_data_spec

    make_labels_folder(tmp_path / "crops", ["cat", "Dog", "a b"])
    s = parse_data_spec(f"folder:{tmp_path / 'crops'}")
    assert s.texts == ["cat", "Dog", "a b"] and s.load(1).shape[2] == 3


def test_mjsynth_source(tmp_path):
    from training.data import mjsynth_label, parse_data_spec, read_mjsynth

    root = tmp_path / "90kDICT32px"
    words = TINY_WORDS[:20]
    lines = []
    for i, w in enumerate(words):
        rel = f"./{i % 3 + 1}/{i % 2}/{i}_{w}_{1000 + i}.jpg"
        _save(render_word(w), root / rel[2:])
        lines.append(f"{rel} {1000 + i}")
    (root / "annotation_train.txt").write_text("\n".join(lines[:16]) + "\n")
    (root / "annotation_val.txt").write_text("\n".join(lines[16:]) + "\n")
    train = parse_data_spec(f"mjsynth:{root}")
    assert train.texts == words[:16] and len(train) == 16
    assert read_mjsynth(root, "val").texts == words[16:]
    assert train.load(0).ndim == 3
    assert mjsynth_label("./2911/6/77_heretical_35885.jpg") == "heretical"
    assert mjsynth_label("./1/2/3_foo_bar_9.jpg") == "foo_bar"


def test_hf_imagefolder_source(tmp_path):
    from training.data import parse_data_spec

    root = tmp_path / "hfdata" / "train"
    rows = ["file_name,text"]
    for i, w in enumerate(["tree", "moon", "42"]):
        _save(render_word(w), root / f"{i}.png")
        rows.append(f"{i}.png,{w}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    s = parse_data_spec(f"hf:{tmp_path / 'hfdata'}:train")
    assert sorted(s.texts) == ["42", "moon", "tree"]
    img = s.load(0)
    assert img.ndim == 3 and img.dtype == np.uint8
    with pytest.raises(ValueError, match="no column"):
        parse_data_spec(f"hf:{tmp_path / 'hfdata'}:train", text_column="label")


def test_hf_saved_dataset_source(tmp_path):
    import datasets

    from training.data import parse_data_spec

    ds = datasets.Dataset.from_dict({"image": [Image.fromarray(render_word("sun"))], "label": ["sun"]},
                                    features=datasets.Features({"image": datasets.Image(), "label": datasets.Value("string")}))
    ds.save_to_disk(str(tmp_path / "saved"))
    s = parse_data_spec(f"hf:{tmp_path / 'saved'}", text_column="label")
    assert s.texts == ["sun"] and s.load(0).shape[2] == 3


def test_unknown_characters_error_or_skip(tmp_path, caplog):
    from training.data import filter_labels, parse_data_spec

    make_labels_folder(tmp_path / "c", ["cat", "naïve", "dog"])
    s = parse_data_spec(f"folder:{tmp_path / 'c'}")
    with pytest.raises(UnknownCharacterError, match=r"'naïve'.*w1.png.*'ï'"):
        filter_labels(s, Charset(ALPHANUMERIC), "error")
    kept = filter_labels(s, Charset(ALPHANUMERIC), "skip")
    assert kept.texts == ["cat", "dog"]
    assert "skipped 1 label(s) with unknown characters" in caplog.text


def test_labels_too_long_for_the_model_are_left_out(tmp_path):
    from training.data import ArraySampleSet, ctc_min_steps, filter_labels

    cs = Charset(ALPHANUMERIC)
    assert ctc_min_steps(cs.encode("book")) == 5  # a blank is needed between the o's
    s = ArraySampleSet(np.zeros((2, 32, 128, 3), np.uint8), ["short", "a" * 20], "x")
    assert filter_labels(s, cs, max_steps=32).texts == ["short"]


def test_holdout_split_is_stable(tmp_path):
    from training.data import holdout_split, parse_data_spec

    make_labels_folder(tmp_path / "c", TINY_WORDS)
    s = parse_data_spec(f"folder:{tmp_path / 'c'}")
    a_train, a_val = holdout_split(s, 0.25)
    b_train, b_val = holdout_split(s, 0.25)
    assert a_val.texts == b_val.texts and 0 < len(a_val) < len(s)
    assert set(a_train.texts).isdisjoint(a_val.texts)


def test_pipeline_batches_and_pads_labels(tmp_path):
    from training.data import LABEL_PAD, WeightedSource, make_dataset, parse_data_spec

    make_labels_folder(tmp_path / "c", ["ab", "abcdef", "a"])
    cfg = RecognizerConfig(vocab=TINY_VOCAB)
    cs = Charset(TINY_VOCAB)
    ds = make_dataset([WeightedSource(parse_data_spec(f"folder:{tmp_path / 'c'}"), augment=True)], cfg, cs, 3)
    # the map runs in parallel and unordered, so a batch may hold the next epoch's samples
    # (a word twice): check every batch against the labels instead of the first batch's mix
    encoded = {tuple(cs.encode(w)) for w in ["ab", "abcdef", "a"]}
    seen = set()
    for images, labels in ds.take(8):
        assert images.shape == (3, 32, 128, 3) and images.dtype == tf.float32
        rows = [tuple(int(v) for v in row if v != LABEL_PAD) for row in labels.numpy()]
        assert set(rows) <= encoded
        # padded to the batch's longest label, pads only after the label
        assert labels.shape[1] == max(map(len, rows))
        assert all((row[len(r):] == LABEL_PAD).all() for row, r in zip(labels.numpy(), rows))
        seen |= set(rows)
    assert seen == encoded


def test_the_pipeline_augments_real_sources_with_the_chosen_augmentation(tmp_path):
    from training.data import WeightedSource, make_dataset, parse_data_spec

    make_labels_folder(tmp_path / "c", ["ab", "abc"])
    calls = []

    def inverted(img, rng):  # an augmentation anyone can recognise in the batch
        calls.append(img.shape)
        return 255 - img

    cfg, cs = RecognizerConfig(vocab=TINY_VOCAB), Charset(TINY_VOCAB)
    src = parse_data_spec(f"folder:{tmp_path / 'c'}")
    plain = make_dataset([WeightedSource(src, augment=False)], cfg, cs, 2, augment=inverted)
    assert next(iter(plain))[0].numpy().mean() > 128 and not calls   # white crops, not augmented
    dark = make_dataset([WeightedSource(src, augment=True)], cfg, cs, 2, augment=inverted)
    assert next(iter(dark))[0].numpy().mean() < 128 and calls         # the augmentation given


def test_real_image_augmentation_converts_like_inference():
    from training.augment import augment_heavy, augment_light

    rng = np.random.default_rng(0)
    word = render_word("cat")
    la = np.dstack([word[..., 0], np.full(word.shape[:2], 255, np.uint8)])  # gray + alpha
    rgba = np.zeros((30, 60, 4), np.uint8)  # fully transparent: white, as inference sees it
    for img in (la, rgba, word.astype(np.float32) / 255, word.astype(np.uint16) * 257, word[..., 0]):
        for augment in (augment_light, augment_heavy):
            for _ in range(10):
                out = augment(img, rng)
                assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert augment_light(rgba, np.random.default_rng(1)).mean() > 150


def test_heavy_augmentation_distorts_more_than_light_and_handles_any_crop_size():
    from training.augment import augment_heavy, augment_light, real_augment

    img = render_word("river", size=40)
    rng = np.random.default_rng(0)

    def reshaped(fn):  # share of augmentations that change the crop's geometry
        return np.mean([fn(img, rng).shape != img.shape for _ in range(200)])

    assert reshaped(augment_heavy) > reshaped(augment_light) + 0.2
    assert real_augment("heavy") is augment_heavy and real_augment("light") is augment_light
    with pytest.raises(SystemExit, match="--real-augment 'wild'"):
        real_augment("wild")
    for shape in ((2, 2, 3), (3, 50, 3), (32, 32, 3), (200, 2000, 3)):
        crop = rng.integers(0, 256, shape, np.uint8)
        for _ in range(60 if shape[0] < 100 else 5):
            out = augment_heavy(crop, rng)
            assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3 and min(out.shape[:2]) >= 1


# ---------------------------------------------------------------- synthetic data
def test_synthetic_words_are_deterministic_and_fonts_held_out():
    from training.synth import RenderSpec, WordRenderer, discover_fonts, split_of

    fonts = discover_fonts()
    for split, infos in fonts.items():  # families are split by their name's hash...
        own = [f for f in infos if split_of(f.family) == split]
        assert own == list(infos) or len(infos) == 1  # ...but an empty split borrows one file (tiny font sets)
    r1, r2 = WordRenderer(RenderSpec("train", seed=5)), WordRenderer(RenderSpec("train", seed=5))
    a, ta = r1.render(17)
    b, tb = r2.render(17)
    assert ta == tb and np.array_equal(a, b)
    c, tc = WordRenderer(RenderSpec("train", seed=6)).render(17)
    assert (tc, c.shape) != (ta, a.shape) or not np.array_equal(a, c)
    texts = [r1.render(i)[1] for i in range(200)]
    cs = Charset(r1.spec.vocab)
    assert all(t and not cs.unknown_characters(t) for t in texts)
    assert any(c.isdigit() for t in texts for c in t) and any(c.isupper() for t in texts for c in t)


def test_fonts_are_drawn_per_family_and_words_mode_renders_dictionary_words():
    from training.synth import RenderSpec, WordRenderer, discover_fonts

    paths = sorted({f.path for fonts in discover_fonts().values() for f in fonts})
    if len(paths) < 2:
        pytest.skip("needs two font files")
    # (fonts given as paths: one family per path) one family listed 9 times, one once:
    # per family they are drawn equally often, per file 9:1
    many, single = [paths[0]] * 9, paths[-1]
    r = WordRenderer(RenderSpec("train", seed=3, fonts=many + [single], augment=False))
    rng = np.random.default_rng(0)
    picks = [r.pick_font(rng) for _ in range(2000)]
    assert 0.4 < picks.count(single) / len(picks) < 0.6
    r_file = WordRenderer(RenderSpec("train", seed=3, fonts=many + [single], augment=False, font_sampling="file"))
    picks = [r_file.pick_font(rng) for _ in range(2000)]
    assert picks.count(single) / len(picks) < 0.2
    with pytest.raises(ValueError, match="font_sampling"):
        RenderSpec("train", font_sampling="weights")
    with pytest.raises(ValueError, match="text"):
        RenderSpec("train", text="sentences")

    words = WordRenderer(RenderSpec("test", seed=1, augment=False, text="words"))
    lexicon = {w.lower() for w in words.text.words}
    texts = [words.render(i)[1] for i in range(100)]
    assert all(t.lower() in lexicon for t in texts)
    assert any(t.isupper() for t in texts) and any(t.islower() for t in texts)


def test_mining_tables_name_fonts_by_their_path_below_the_font_folder():
    """Same-named files in different folders stay apart; older tables keyed by file name still match."""
    from training.synth import font_key, hard_font_weight

    x, y = "/usr/share/fonts/truetype/a/X.ttf", "/usr/share/fonts/truetype/b/X.ttf"
    assert font_key(x) == "truetype/a/X.ttf" and font_key(x) != font_key(y)
    assert hard_font_weight({"truetype/a/X.ttf": 2, "X.ttf": 3}, x) == 2
    assert hard_font_weight({"truetype/a/X.ttf": 2, "X.ttf": 3}, y) == 3
    assert hard_font_weight({"other.ttf": 3}, y) == 0


def _two_fonts():
    from training.synth import discover_fonts

    infos = sorted({f.path: f for fonts in discover_fonts().values() for f in fonts}.values(), key=lambda f: f.path)
    if len(infos) < 2:
        pytest.skip("needs two font files")
    return infos[0], infos[-1]


def _hard_table(tmp_path, a, b):
    """A table where font a was misread 30 times in 40 words (capped to 10) and b never."""
    import json

    from training.synth import font_key

    path = tmp_path / "hard.json"
    path.write_text(json.dumps({"split": "train", "fonts": {font_key(a.path): {"errors": 30, "words": 40},
                                                            font_key(b.path): {"errors": 0, "words": 40}}}))
    return path


def test_mine_counts_the_words_a_model_misreads_per_font(recognizer):
    from training.mine_fonts import mine
    from training.synth import font_key

    a, b = _two_fonts()
    table = mine(recognizer, fonts=[a, b], per_font=4, workers=1)
    assert table["words"] == 8 and set(table["fonts"]) == {font_key(a.path), font_key(b.path)}
    for entry in table["fonts"].values():
        assert entry["words"] == 4 and 0 <= entry["errors"] <= 4
        assert len(entry["examples"]) == min(5, entry["errors"]) and all(t != p for t, p in entry["examples"])
    assert table["errors"] == sum(e["errors"] for e in table["fonts"].values())


def test_a_mining_table_steers_the_font_draws_of_training_renders(tmp_path):
    """--synth-hard-fonts draws a share of the training fonts in proportion to the misses (capped)."""
    from training.synth_cache import synthetic_set
    from training.synth import RenderSpec, WordRenderer, font_key, load_hard_fonts

    a, b = _two_fonts()
    weights = load_hard_fonts(_hard_table(tmp_path, a, b))
    assert weights == {font_key(a.path): 10.0, font_key(b.path): 0.0}
    rng = np.random.default_rng(0)
    hard = WordRenderer(RenderSpec("train", fonts=[a.path, b.path], augment=False, hard_fonts=weights,
                                   hard_font_share=1.0))
    picks = [hard.pick_font(rng) for _ in range(2000)]
    assert picks.count(a.path) / len(picks) > 0.9  # 10.5 : 0.5
    half = WordRenderer(RenderSpec("train", fonts=[a.path, b.path], augment=False, hard_fonts=weights,
                                   hard_font_share=0.5))
    picks = [half.pick_font(rng) for _ in range(2000)]
    assert 0.65 < picks.count(a.path) / len(picks) < 0.8  # 0.5 * 0.955 + 0.5 * 0.5
    with pytest.raises(ValueError, match="hard_fonts"):
        RenderSpec("train", hard_font_share=0.5)
    with pytest.raises(ValueError, match="hard_font_share"):
        RenderSpec("train", fonts=[a.path], hard_fonts=weights, hard_font_share=1.5)

    # the rendered training set is cached under its own key (not the unweighted renders)
    config = RecognizerConfig(vocab=TINY_VOCAB, height=32, width=128)
    cache = tmp_path / "cache"
    plain = synthetic_set(RenderSpec("train", vocab=TINY_VOCAB), 6, config, cache_dir=cache, workers=1)
    steered = synthetic_set(RenderSpec("train", vocab=TINY_VOCAB, hard_fonts=weights, hard_font_share=0.5), 6, config,
                            cache_dir=cache, workers=1)
    assert len(list(cache.glob("synth-train-6-*.npz"))) == 2
    assert not np.array_equal(plain.images, steered.images)  # the table reached the rendering workers


def test_the_trainer_says_how_much_of_a_mining_table_matched(tmp_path, caplog):
    import logging

    from training.assemble import prepare_data
    from training.options import parse_args

    a, b = _two_fonts()
    path = _hard_table(tmp_path, a, b)
    args = parse_args(["--data", "synthetic", "--synth-train-size", "4", "--synth-val-size", "2",
                       "--synth-hard-fonts", str(path), "--cache-dir", str(tmp_path / "cache"),
                       "--output-dir", str(tmp_path / "r")])
    from training.synth import load_hard_fonts

    assert args.hard_fonts_table == load_hard_fonts(path)  # read once, by parse_args; prepare_data uses that copy
    args.synth_hard_fonts = str(tmp_path / "moved-away.json")
    with caplog.at_level(logging.INFO, logger="training"):
        prepare_data(args, RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128), Charset(ALPHANUMERIC),
                     time_steps=32)
    assert "training font files misread in it" in caplog.text


def test_bad_mining_tables_are_clear_errors_before_a_run_writes_anything(tmp_path, capsys):
    from training.synth import load_hard_fonts
    from training.options import parse_args

    with pytest.raises(SystemExit, match="no such file.*training.mine_fonts"):
        parse_args(["--data", "synthetic", "--synth-hard-fonts", str(tmp_path / "missing.json"), "--output-dir", "x"])
    (tmp_path / "bad.json").write_text('{"fonts": [1, 2]}')
    with pytest.raises(SystemExit, match="not a mining table"):
        load_hard_fonts(tmp_path / "bad.json")
    (tmp_path / "ok.json").write_text('{"split": "train", "fonts": {"a.ttf": {"errors": 1, "words": 4}}}')
    with pytest.raises(SystemExit):
        parse_args(["--data", "synthetic", "--synth-hard-fonts", str(tmp_path / "ok.json"),
                    "--synth-hard-font-share", "1.5", "--output-dir", "x"])
    assert "--synth-hard-font-share must be in [0, 1], got 1.5" in capsys.readouterr().err
    (tmp_path / "nan.json").write_text('{"fonts": {"a.ttf": {"errors": NaN, "words": 4}}}')
    with pytest.raises(SystemExit, match="not numbers"):
        load_hard_fonts(tmp_path / "nan.json")


def test_the_mine_command_writes_a_table_that_training_refuses_for_held_out_fonts(tiny_model_dir, tmp_path):
    import json

    from training.mine_fonts import main
    from training.synth import discover_fonts, load_hard_fonts

    out = tmp_path / "test_fonts.json"
    assert main(["--model", str(tiny_model_dir), "--split", "test", "--per-font", "1", "--workers", "1",
                 "--output", str(out)]) == 0
    mined = json.loads(out.read_text())
    assert mined["split"] == "test" and mined["words"] == len(discover_fonts()["test"])
    assert mined["model"]["path"] == str(tiny_model_dir) and len(mined["model"]["onnx_sha1"]) == 40
    with pytest.raises(SystemExit, match="leak"):
        load_hard_fonts(out)


def test_shape_jitter_reshapes_training_glyphs_and_leaves_benchmark_renders_alone(tmp_path, capsys):
    """shape_jitter bends the glyphs of that share of the training renders (new designs from the
    installed fonts); the same words, size and font otherwise, and renders without it (every
    benchmark set) are unchanged."""
    from training.synth_cache import synthetic_set
    from training.synth import RenderSpec, WordRenderer, effects
    from training.options import parse_args

    for augment in (False, True):
        plain = WordRenderer(RenderSpec("train", seed=3, augment=augment, text="words"))
        again = WordRenderer(RenderSpec("train", seed=3, augment=augment, text="words", shape_jitter=0.0))
        bent = WordRenderer(RenderSpec("train", seed=3, augment=augment, text="words", shape_jitter=1.0))
        changed = 0
        for i in range(6):
            (a, ta), (b, tb), (c, tc) = plain.render(i), again.render(i), bent.render(i)
            assert ta == tb == tc and np.array_equal(a, b)
            assert c.dtype == np.uint8 and c.ndim == 3 and c.shape[2] == 3 and c.std() > 5  # ink on it
            changed += a.shape != c.shape or not np.array_equal(a, c)
        assert changed == 6
    # clean renders: the same word and size, so about the same box; the ink moved
    img, _ = WordRenderer(RenderSpec("train", seed=1, augment=False)).render(0)
    m = (255 - img[..., 0]).astype(np.float32)[..., None] / 255
    out = effects.reshape(m, np.random.default_rng(0), 40)
    assert out.shape == m.shape and 0.5 < out.sum() / m.sum() < 2.0 and not np.allclose(out, m)
    with pytest.raises(ValueError, match="shape_jitter"):
        RenderSpec("train", shape_jitter=1.5)

    config = RecognizerConfig(vocab=TINY_VOCAB, height=32, width=128)
    cache = tmp_path / "cache"
    plain_set = synthetic_set(RenderSpec("train", vocab=TINY_VOCAB, augment=False), 4, config, cache_dir=cache,
                              workers=1)
    bent_set = synthetic_set(RenderSpec("train", vocab=TINY_VOCAB, augment=False, shape_jitter=1.0), 4, config,
                             cache_dir=cache, workers=1)
    assert len(list(cache.glob("synth-train-4-*.npz"))) == 2  # cached apart
    assert plain_set.texts == bent_set.texts and not np.array_equal(plain_set.images, bent_set.images)

    args = parse_args(["--data", "synthetic", "--synth-shape-jitter", "0.4", "--output-dir", "x"])
    assert args.synth_shape_jitter == 0.4 and args.hard_fonts_table is None
    with pytest.raises(SystemExit):
        parse_args(["--data", "synthetic", "--synth-shape-jitter", "-0.1", "--output-dir", "x"])
    assert "--synth-shape-jitter must be in [0, 1], got -0.1" in capsys.readouterr().err


def test_synthetic_clean_source_renders_plain_print(tmp_path):
    """`--data synthetic synthetic-clean`: two rendered training sources in their given places and
    weights, the clean one dark-on-white print of other words, each with its own validation set."""
    from training.assemble import prepare_data
    from training.options import parse_args

    args = parse_args(["--data", "synthetic", "synthetic-clean", "--data-weights", "3", "1",
                       "--synth-train-size", "24", "--synth-clean-train-size", "16", "--synth-val-size", "8",
                       "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "run")])
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    sources, val_sets, _, test_sets = prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    assert [len(s.samples) for s in sources] == [24, 16] and [s.weight for s in sources] == [3, 1]
    augmented, clean = (s.samples.images for s in sources)
    assert sorted(val_sets) == ["synthetic", "synthetic-clean"] and not test_sets
    # clean: a white page (border and most pixels) with dark ink; augmented: any colours
    assert (clean[:, 0, :, :] > 200).mean() > 0.95 and (clean.min(axis=(1, 2, 3)) < 100).all()
    assert (augmented[:, 0, :, :] > 200).mean() < 0.8
    assert sources[0].samples.texts[:16] != sources[1].samples.texts
    args.val_data = ["synthetic-clean:test"]
    _, val_sets, _, _ = prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    assert "synthetic-clean-test" in val_sets
    args.val_data = ["synthetic-noisy:test"]
    with pytest.raises(SystemExit, match="synthetic-noisy"):
        prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)


def test_holdout_list_crops_are_a_test_set_not_validation(tmp_path):
    """--holdout-list crops never train and are scored as a test set; with no other validation
    data the run stops with an error saying so, before anything trains."""
    from training.assemble import prepare_data
    from training.options import parse_args

    shelf = make_labels_folder(tmp_path / "shelf", ["cat", "dog", "tree", "house", "river"])
    crops = make_labels_folder(tmp_path / "crops", ["green", "stone", "light", "apple", "zebra"] * 4)
    listing = tmp_path / "list.txt"
    listing.write_text("shelf/w0.png\nshelf/w3.png\n")
    config = RecognizerConfig(vocab=ALPHANUMERIC, height=32, width=128)
    args = parse_args(["--data", f"folder:{shelf}", f"folder:{crops}", "--holdout-list", str(listing),
                       "--holdout", "0.3", "--output-dir", str(tmp_path / "run")])
    sources, val_sets, _, test_sets = prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)
    assert test_sets == {"shelf"} and val_sets["shelf"][1] == ["cat", "house"]
    assert sources[0].samples.texts == ["dog", "tree", "river"] and "crops" in val_sets
    args.data = [f"folder:{shelf}"]
    with pytest.raises(SystemExit, match="no validation data.*test set"):
        prepare_data(args, config, Charset(ALPHANUMERIC), time_steps=32)


# ---------------------------------------------------------------- export
def test_tiny_model_overfits_and_onnx_matches_keras(tiny_model_dir):
    """A few hundred rendered words: >= 90% training word accuracy, and the exported ONNX
    graph (through Recognizer) gives the same probabilities and text as Keras."""
    from ctc_recognizer import Recognizer
    from training.callbacks import decode_texts
    from training.export import load_keras
    from tests.helpers import tiny_dataset

    rec = Recognizer.from_pretrained(tiny_model_dir)
    images, texts = tiny_dataset(rec.config)
    model = load_keras(tiny_model_dir / "model.keras")
    keras_probs = np.asarray(model.predict(images.astype(np.float32), verbose=0))
    keras_text = decode_texts(keras_probs, rec.charset)
    preds = rec(list(images), return_probs=True)
    onnx_probs = np.stack([p.probabilities for p in preds])
    assert np.abs(onnx_probs - keras_probs).max() < 1e-4
    assert [p.text for p in preds] == keras_text
    accuracy = np.mean([p.text == t for p, t in zip(preds, texts)])
    assert accuracy >= 0.9


def test_export_refuses_a_graph_that_differs(tmp_path, monkeypatch):
    from training import export
    from training.model import build_model

    cfg = RecognizerConfig(vocab=TINY_VOCAB, architecture="crnn_small")
    model = build_model("crnn_small", cfg.num_classes)
    monkeypatch.setattr(export, "onnx_vs_keras", lambda *a, **k: 0.5)
    with pytest.raises(export.ExportError, match="differs from the Keras model by 0.5"):
        export.export_model(model, cfg, tmp_path / "out")
    assert not (tmp_path / "out" / "model.onnx").exists()
    assert not (tmp_path / "out" / "config.json").exists()


def test_int8_quantization_loads_and_reads(tiny_model_dir, tmp_path):
    import shutil

    from ctc_recognizer import Recognizer
    from training.export import quantize_int8
    from tests.helpers import tiny_dataset

    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    rec = Recognizer.from_pretrained(d)
    images, texts = tiny_dataset(rec.config)
    quantize_int8(d, images[:64])
    q = Recognizer.from_pretrained(d, model_file="model.int8.onnx")
    import onnx

    ops = {n.op_type for n in onnx.load(str(d / "model.int8.onnx")).graph.node}
    assert "QuantizeLinear" in ops
    acc = np.mean([p.text == t for p, t in zip(q(list(images)), texts)])
    assert acc >= 0.8
    # ONNX Runtime runs the residual adds on uint8 data too (no dequantize-add-quantize
    # round trips between the convolutions), and the LSTM on dynamically quantized weights
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(d / "model.int8.onnx"), so, providers=["CPUExecutionProvider"])
    optimized = [n.op_type for n in onnx.load(so.optimized_model_filepath).graph.node]
    assert {"QLinearConv", "QLinearAdd", "DynamicQuantizeLSTM"} <= set(optimized)
    assert "Add" not in optimized
    # both calibration methods build a model; an unknown one is named, and nothing is written
    quantize_int8(d, images[:64], out_name="model.pct.onnx", calibration_method="percentile")
    assert Recognizer.from_pretrained(d, model_file="model.pct.onnx")(images[0]).text is not None
    with pytest.raises(ValueError, match="calibration_method must be one of"):
        quantize_int8(d, images[:64], out_name="model.bad.onnx", calibration_method="kl")
    assert not (d / "model.bad.onnx").exists()


# ---------------------------------------------------------------- hub
def test_push_to_hub_uploads_model_and_card(tiny_model_dir, monkeypatch):
    import yaml
    from huggingface_hub import HfApi

    from training.hub import push

    seen = {}
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: seen.setdefault("repo", (repo_id, kw)))

    def upload_folder(self, *, repo_id, folder_path, **kw):
        seen["files"] = sorted(os.listdir(folder_path))
        seen["card"] = Path(folder_path, "README.md").read_text()
        return "https://huggingface.co/org/tiny/commit/1"

    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    cfg = RecognizerConfig.load(tiny_model_dir)
    cfg.metrics = {"validation": {"synthetic": {"count": 10, "word_accuracy": 0.9, "word_accuracy_ci": 0.95,
                                                "cer": 0.02, "wer": 0.1}},
                   "test": {"shelf": {"count": 5, "word_accuracy": 0.8, "word_accuracy_ci": 0.8,
                                      "cer": 0.05, "wer": 0.2}}}
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(tiny_model_dir, d, dirs_exist_ok=True)
        cfg.save(d)
        push(d, "org/tiny", private=True, token="hf_fake")
    assert seen["repo"][0] == "org/tiny" and seen["repo"][1]["private"] is True
    assert {"config.json", "model.onnx", "model.keras", "README.md"} <= set(seen["files"])
    meta = yaml.safe_load(seen["card"].split("---")[1])
    assert meta["library_name"] == "ctc-recognizer" and meta["pipeline_tag"] == "image-to-text"
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    assert {"type": "cer", "name": "CER", "value": 0.02} in metrics
    by_set = {r["dataset"]["name"]: r for r in meta["model-index"][0]["results"]}
    assert {"type": "cer", "name": "CER", "value": 0.05} in by_set["shelf (test)"]["metrics"]
    assert "| shelf (test) | 5 | 0.8000 |" in seen["card"]
    assert "crops wider than 200 px at height 32 are read at 192 px" in seen["card"]


def test_trainer_push_step_uploads_through_training_hub(tiny_model_dir, monkeypatch):
    """The step `--push-to-hub` runs after training (it once imported a name push_to_hub.py no
    longer has, so a whole run ended in ImportError)."""
    from huggingface_hub import HfApi

    from training.train import push_exported

    seen = {}
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: seen.setdefault("repo", (repo_id, kw)))

    def upload_folder(self, *, repo_id, folder_path, **kw):
        seen["files"] = sorted(os.listdir(folder_path))
        return "https://huggingface.co/org/tiny/commit/2"

    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert push_exported(Path(tiny_model_dir), "org/tiny", private=True) == "https://huggingface.co/org/tiny/commit/2"
    assert seen["repo"] == ("org/tiny", {"private": True, "exist_ok": True, "repo_type": "model"})
    assert {"config.json", "model.onnx", "README.md"} <= set(seen["files"])


def test_symbol_and_keycap_fonts_are_never_used():
    from training.synth import EXCLUDED_FAMILIES, discover_fonts

    for split, fonts in discover_fonts().items():
        assert not [f.family for f in fonts if EXCLUDED_FAMILIES.search(f.family)]
    assert EXCLUDED_FAMILIES.search("Standard Symbols PS") and EXCLUDED_FAMILIES.search("Linux Biolinum Keyboard O")
    assert EXCLUDED_FAMILIES.search("STIX Math") and not EXCLUDED_FAMILIES.search("Berenis ADF Pro Math")
    assert not EXCLUDED_FAMILIES.search("DejaVu Sans")


def test_tex_gyre_fonts_under_texmf_are_found():
    """Debian installs fonts-texgyre under /usr/share/texmf, outside /usr/share/fonts: font
    discovery looks there too, and the families keep their hash-given split."""
    import glob

    from training.synth import discover_fonts, split_of

    if not glob.glob("/usr/share/texmf/fonts/opentype/**/texgyrepagella-italic.otf", recursive=True):
        pytest.skip("needs fonts-texgyre (scripts/install_system_deps.sh)")
    fonts = discover_fonts()
    pagella = [f for f in fonts["train"] if f.family == "TeX Gyre Pagella"]
    assert any(f.path.endswith("texgyrepagella-italic.otf") for f in pagella)
    assert split_of("TeX Gyre Termes") == "val"
    assert any(f.family == "TeX Gyre Termes" for f in fonts["val"])
    assert not any(f.family.startswith("TeX Gyre") for f in fonts["test"])


def test_caps_form_fonts_are_not_used():
    """All-caps and small-caps fonts draw lower case as capitals: rendering lower-case labels
    in them would teach the wrong case, so font discovery leaves them out."""
    import glob

    from training.synth import caps_form_lowercase, discover_fonts

    caps = (glob.glob("/usr/share/fonts/**/BebasNeue-Regular.otf", recursive=True)
            + glob.glob("/usr/share/fonts/**/Go-Smallcaps.ttf", recursive=True)
            + glob.glob("/usr/share/fonts/**/Humor-Sans.ttf", recursive=True))
    ordinary = glob.glob("/usr/share/fonts/**/DejaVuSans.ttf", recursive=True)
    if not caps or not ordinary:
        pytest.skip("needs fonts-bebas-neue or fonts-go, and fonts-dejavu (scripts/install_system_deps.sh)")
    assert all(caps_form_lowercase(p) for p in caps)
    assert not caps_form_lowercase(ordinary[0])
    used = {f.path for fonts in discover_fonts().values() for f in fonts}
    assert not used & set(caps)


def test_long_crops_read_the_same_in_keras_and_onnx(tiny_model_dir):
    """The exported graph takes any width; at the long-crop width it gives the Keras
    network's probabilities (rebuilt for any width with the trained weights)."""
    from ctc_recognizer import Recognizer
    from ctc_recognizer.preprocessing import preprocess
    from training.evaluate import KerasRecognizer
    from training.export import dynamic_width_model, load_keras
    from tests.conftest import render_word

    rec = Recognizer.from_pretrained(tiny_model_dir)
    assert rec.config.long_crop_width == 192 and rec.config.long_crop_threshold == 200
    words = ["coffee", "river", "room101"]
    longs = []
    for w in words:
        img = render_word(w)
        longs.append(np.pad(img, ((0, 0), (0, round(240 * img.shape[0] / 32) - img.shape[1]), (0, 0)),
                            constant_values=255))
    images = longs + [render_word("tree")]
    keras_rec = KerasRecognizer(tiny_model_dir / "model.keras", rec.config)
    assert [p.text for p in keras_rec(images)] == [p.text for p in rec(images)]
    wide = dynamic_width_model(load_keras(tiny_model_dir / "model.keras"), rec.config)
    x = np.stack([preprocess(im, rec.config).image for im in longs]).astype(np.float32)
    assert x.shape[2] == 192
    onnx_probs = np.stack([p.probabilities for p in rec(longs, return_probs=True)])
    assert np.abs(np.asarray(wide(x, training=False)) - onnx_probs).max() < 1e-4


@pytest.mark.slow  # builds and exports the seed architecture (~40 s on 2 cores); scripts/test.sh -m "" runs it
def test_seed_exports_at_its_fixed_width(tmp_path):
    """seed's time steps are rows x columns of its feature map (time_columns): no other width,
    so no long-crop reading."""
    from ctc_recognizer import Recognizer
    from training import export
    from training.model import build_model

    cfg = RecognizerConfig(vocab=TINY_VOCAB, architecture="seed", time_columns=32)
    export.export_model(build_model("seed", cfg.num_classes), cfg, tmp_path / "seed", save_keras=False)
    rec = Recognizer.from_pretrained(tmp_path / "seed")
    assert rec.config.long_crop_width is None and rec.config.long_crop_threshold is None
    assert rec.session.get_inputs()[0].shape[1:] == [32, 128, 3]


def test_exported_model_is_scored_on_images_at_their_own_size(tiny_model_dir, monkeypatch):
    """File-based validation/test sets are read by the exported model from their images, as a
    user's call reads them (long crops at the long width), not from the 32x128 arrays."""
    from ctc_recognizer import Recognizer
    from ctc_recognizer.preprocessing import fit_to_model
    from training.train import evaluate_exported
    from tests.conftest import render_word

    cfg = Recognizer.from_pretrained(tiny_model_dir).config
    words = ["coffee", "tree"]
    images = [render_word(w) for w in words]
    images[0] = np.pad(images[0], ((0, 0), (0, round(240 * images[0].shape[0] / 32) - images[0].shape[1]), (0, 0)),
                       constant_values=255)

    class Samples:
        def __len__(self):
            return len(images)

        def load(self, i):
            return images[i]

    widths = []
    real = Recognizer.predict_probs

    def spy(self, batch):
        widths.extend(np.shape(im)[1] for im in batch)
        return real(self, batch)

    monkeypatch.setattr(Recognizer, "predict_probs", spy)
    # recheck off: its second looks at unsure crops would add reads of their own
    monkeypatch.setattr("ctc_recognizer.recognizer.check_recheck", lambda recheck: 0.0)
    arrays = np.stack([fit_to_model(im, cfg)[0] for im in images])
    result = evaluate_exported(tiny_model_dir, {"files": (arrays, words), "renders": (arrays, words)},
                               natural={"files": Samples()})
    assert result["files"]["count"] == result["renders"]["count"] == 2
    assert widths == [192, 128, 128, 128]  # files: the long crop at 192; renders: the arrays

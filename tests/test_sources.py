"""One data-source registry (train, evaluate, bench), one model resolver, frozen benchmark sets."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_labels_folder
from tests.conftest import ROOT, TINY_WORDS
from training import sources
from training.data import ArraySampleSet, FileSampleSet, parse_data_spec
from training.evaluate import load_eval_data
from training.frozen import FROZEN_ROOT, FROZEN_SETS, FrozenSetError, read_frozen_set, verify
from training.locate import export_dir, keras_model, recognizer_ref, resolve_model


# ---------------------------------------------------------------- the registry
def test_every_grammar_reads_the_same_registry(tmp_path):
    crops = make_labels_folder(tmp_path / "crops", TINY_WORDS[:6])
    s = parse_data_spec(f"folder:{crops}")  # training --data
    assert isinstance(s, FileSampleSet) and s.texts == TINY_WORDS[:6]
    images, texts, name = load_eval_data(f"folder:{crops}", num=4)  # evaluate / bench
    assert texts == TINY_WORDS[:4] and all(isinstance(p, str) for p in images) and name == "crops"
    assert parse_data_spec("synthetic") == "synthetic" and parse_data_spec("synthetic-words") == "synthetic-words"
    with pytest.raises(ValueError, match="unknown data source 'nope'.*folder:PATH.*real-holdout"):
        parse_data_spec("nope:x")
    with pytest.raises(ValueError, match="folder:PATH"):
        parse_data_spec("folder")


def test_a_new_source_is_one_registry_entry(tmp_path):
    @sources.register_source("tiny-arrays", arg="N", help="N black squares")
    def _tiny(arg, opts):
        n = int(arg or 3)
        return ArraySampleSet([np.zeros((8, 8, 3), np.uint8)] * n, ["a"] * n, name="tiny-arrays")

    try:
        assert len(parse_data_spec("tiny-arrays:5")) == 5
        images, texts, name = load_eval_data("tiny-arrays:2")
        assert len(images) == 2 and texts == ["a", "a"] and name == "tiny-arrays"
        assert "tiny-arrays[:N]" in sources.usage()
        with pytest.raises(ValueError, match="already registered"):
            sources.register_source("tiny-arrays")(_tiny)
    finally:
        del sources.SOURCES["tiny-arrays"]


def test_rendered_sources_give_their_render_spec():
    spec = sources.render_spec("synthetic-words:val", "train", 7, "abc")
    assert (spec.split, spec.seed, spec.augment, spec.text, spec.vocab) == ("val", 7, False, "words", "abc")
    assert sources.render_spec("synthetic", "train", 0, "abc").augment
    with pytest.raises(ValueError, match="not a rendered source"):
        sources.render_spec("folder:x", "train", 0, "abc")
    with pytest.raises(ValueError, match="split must be one of"):
        sources.render_spec("synthetic:dev", "train", 0, "abc")


def test_validation_renders_are_rendered_now_and_test_splits_read_the_frozen_files():
    images, texts, name = load_eval_data("synthetic-words:val", num=3, vocab="abcdefghijklmnopqrstuvwxyz")
    assert name == "synthetic-words-val" and all(isinstance(i, np.ndarray) for i in images)
    images, texts, name = load_eval_data("synthetic-words:test", num=5)
    frozen = read_frozen_set(FROZEN_SETS["synthetic-words"])
    assert images == [str(p) for p in frozen.paths[:5]] and texts == frozen.texts[:5]
    assert name == "synthetic-words-test"
    _, texts_all, _ = load_eval_data("frozen:synthetic-clean-v1")
    assert len(texts_all) == 1000


# ---------------------------------------------------------------- frozen sets
@pytest.mark.parametrize("name", sorted(set(FROZEN_SETS.values())))
def test_frozen_sets_match_their_manifest_hashes(name):
    manifest = verify(FROZEN_ROOT / name)
    assert manifest["count"] == 1000 and manifest["seed"] == 2024 and manifest["split"] == "test"
    assert len(manifest["files"]) == 1001  # 1000 PNGs + labels.tsv
    assert len(manifest["font_families"]) >= 10  # rendered in the benchmark machine's test fonts


def test_a_changed_or_extra_file_in_a_frozen_set_is_refused(tmp_path):
    copy = tmp_path / "synthetic-words-v1"
    shutil.copytree(FROZEN_ROOT / "synthetic-words-v1", copy)
    verify(copy)
    (copy / "00003.png").write_bytes((copy / "00004.png").read_bytes())
    with pytest.raises(FrozenSetError, match="00003.png does not match its manifest"):
        read_frozen_set("synthetic-words-v1", root=tmp_path)
    shutil.copyfile(FROZEN_ROOT / "synthetic-words-v1" / "00003.png", copy / "00003.png")
    (copy / "extra.png").write_bytes(b"x")
    with pytest.raises(FrozenSetError, match="not in its manifest"):
        verify(copy)
    with pytest.raises(FrozenSetError, match="no frozen set 'nope'"):
        read_frozen_set("nope", root=tmp_path)


def test_a_set_refrozen_in_place_with_its_manifest_is_refused(tmp_path):
    """A changed file AND a manifest rewritten to match it pass the manifest check, not the pin."""
    import json

    from training.frozen import FROZEN_TOTALS, MANIFEST, file_sha256, total_hash

    assert set(FROZEN_SETS.values()) <= set(FROZEN_TOTALS)  # every set a rendered source reads is pinned
    copy = tmp_path / "synthetic-words-v1"
    shutil.copytree(FROZEN_ROOT / "synthetic-words-v1", copy)
    assert len(read_frozen_set("synthetic-words-v1", root=tmp_path)) == 1000
    (copy / "00003.png").write_bytes((copy / "00004.png").read_bytes())
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["files"]["00003.png"] = file_sha256(copy / "00003.png")
    manifest["total_sha256"] = total_hash(manifest["files"])
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(FrozenSetError, match="not the ones frozen .*FROZEN_TOTALS.*refrozen in place"):
        read_frozen_set("synthetic-words-v1", root=tmp_path)
    shutil.copytree(copy, tmp_path / "mine-v1")  # an unpinned set (e.g. just frozen) reads by its manifest
    assert len(read_frozen_set("mine-v1", root=tmp_path)) == 1000


def test_freeze_writes_a_verified_set_once(tmp_path):
    from training.frozen import freeze

    vocab = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    target = freeze("synthetic-words", "vt", 3, 2024, tmp_path, vocab)
    assert target == tmp_path / "synthetic-words-vt" and not list(tmp_path.glob(".*"))  # no staging left
    samples = read_frozen_set("synthetic-words-vt", root=tmp_path)
    manifest = verify(target)
    assert len(samples) == 3 and manifest["seed"] == 2024 and manifest["spec"] == "synthetic-words:test"
    assert samples.name == "synthetic-words-test" and all(len(t) > 0 for t in samples.texts)
    with pytest.raises(FrozenSetError, match="exists: frozen sets never change"):
        freeze("synthetic-words", "vt", 3, 2024, tmp_path, vocab)
    with pytest.raises(FrozenSetError, match="no frozen set kind 'words'"):
        freeze("words", "vt", 3, 2024, tmp_path, vocab)


def test_per_font_test_is_refused_because_it_would_render_test_fonts_now():
    from training import sources

    with pytest.raises(ValueError, match="per-font:test is not offered: .*frozen set"):
        sources.load("per-font:test", sources.LoadOptions(per_font=1))
    with pytest.raises(ValueError, match="per-font:dev: the split must be one of train, val"):
        sources.load("per-font:dev", sources.LoadOptions(per_font=1))


def test_asking_a_frozen_set_for_more_words_than_it_has_warns(caplog):
    from training.frozen import load_frozen

    assert len(load_frozen("synthetic-words", 1500)) == 1000
    assert "frozen set synthetic-words-v1 of 1000 words; 1500 asked for" in caplog.text


# ---------------------------------------------------------------- the model resolver
def _export(folder: Path, keras: bool = True) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    if keras:
        (folder / "model.keras").write_bytes(b"k")
    return folder


def test_one_resolver_for_runs_model_folders_and_keras_files(tmp_path):
    run = tmp_path / "run"
    _export(run / "model")
    files = resolve_model(run)
    assert files.export_dir == run / "model" and files.keras == run / "model" / "model.keras"
    assert export_dir(run) == run / "model" and recognizer_ref(str(run)) == str(run / "model")
    assert keras_model(run / "model" / "model.keras") == (run / "model" / "model.keras", run / "model" / "config.json")
    training = tmp_path / "training"
    training.mkdir()
    (training / "best.keras").write_bytes(b"k")
    (training / "config.json").write_text("{}")
    files = resolve_model(training)
    assert files.in_progress and files.export_dir is None and files.keras == training / "best.keras"
    with pytest.raises(FileNotFoundError, match="no exported model"):
        export_dir(training)
    assert recognizer_ref("org/name") == "org/name" and recognizer_ref(None) is None
    with pytest.raises(FileNotFoundError, match="no model in"):
        resolve_model(tmp_path)
    onnx_only = _export(tmp_path / "onnx_only", keras=False)
    with pytest.raises(FileNotFoundError, match="no Keras model"):
        keras_model(onnx_only)


def test_the_bundled_models_keras_weights_live_outside_the_inference_package():
    keras_path, cfg = keras_model("default")
    assert keras_path == ROOT / "training" / "pretrained" / "default" / "model.keras" and keras_path.is_file()
    assert cfg == ROOT / "ctc_recognizer" / "models" / "default" / "config.json"
    assert keras_model(ROOT / "ctc_recognizer" / "models" / "default")[0] == keras_path  # the folder the README names
    assert not (ROOT / "ctc_recognizer" / "models" / "default" / "model.keras").exists()


def test_the_hub_command_uploads_a_runs_export(tmp_path, monkeypatch, capsys):
    from training import hub

    run = tmp_path / "run"
    _export(run / "model")
    seen = {}
    monkeypatch.setattr(hub, "push", lambda folder, repo, **kw: seen.update(folder=folder, repo=repo) or "url")
    hub.main([str(run), "org/x"])
    assert seen == {"folder": run / "model", "repo": "org/x"} and capsys.readouterr().out.strip() == "url"
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no model in"):
        hub.main([str(tmp_path / "empty"), "org/x"])


@pytest.mark.parametrize("name, list_path", [("real-val", "real_val.txt"), ("real-holdout", "real_holdout.txt")])
def test_real_split_sources_read_exactly_the_listed_crops(tmp_path, name, list_path):
    from training.data import read_holdout_list

    first = {}  # each source folder the list names -> its first listed file
    for key in read_holdout_list(ROOT / "training" / "splits" / list_path):
        first.setdefault(*key.split("/", 1))
    for folder, listed in first.items():  # one listed crop and one that no list names, per folder
        src = make_labels_folder(tmp_path / "data" / folder, ["cat", "dog"])
        (src / "w0.png").rename(src / listed)
        (src / "labels.tsv").write_text(f"{listed}\t{folder}x\nw1.png\tdog\n")
    samples = sources.load(f"{name}:{tmp_path / 'data'}", sources.LoadOptions())
    assert samples.name == name and samples.texts == [f"{folder}x" for folder in first]


def test_a_real_split_without_its_crops_names_the_list_and_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"real_val.txt: no \S+/labels.tsv under"):
        sources.load(f"real-val:{tmp_path}", sources.LoadOptions())

"""ctc-recognizer predict / evaluate (on the committed tiny ONNX model, without TensorFlow),
and training.evaluate (on a model trained now)."""

import json

import pytest
from PIL import Image

from ctc_recognizer.cli import main
from tests.conftest import render_word


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    d = tmp_path_factory.mktemp("crops")
    words = ["tree", "coffee", "zebra", "milk"]
    for i, w in enumerate(words):
        Image.fromarray(render_word(w)).save(d / f"{i}.png")
    (d / "labels.tsv").write_text("".join(f"{i}.png\t{w}\n" for i, w in enumerate(words)))
    return d


def test_predict_json(tiny_model_dir, crops, capsys):
    assert main(["predict", str(crops / "0.png"), str(crops / "1.png"), "--model", str(tiny_model_dir), "--json"]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [l["text"] for l in lines] == ["tree", "coffee"]
    assert all(0 < l["confidence"] <= 1 and len(l["char_boxes"]) == len(l["text"]) for l in lines)


def test_predict_with_lexicon(tiny_model_dir, crops, tmp_path, capsys):
    lex = tmp_path / "words.txt"
    lex.write_text("zebras\nzebra\nmilk\n")
    assert main(["predict", str(crops / "2.png"), "--model", str(tiny_model_dir), "--decoder", "beam",
                 "--lexicon", str(lex)]) == 0
    assert capsys.readouterr().out.split("\t")[1] == "zebra"


def test_predict_bad_image_reports_and_fails(tiny_model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("hello")
    assert main(["predict", str(bad), "--model", str(tiny_model_dir)]) == 1
    assert "not a readable image" in capsys.readouterr().err


def test_missing_model_is_one_line_error(tmp_path, capsys):
    assert main(["predict", "x.png", "--model", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: model folder") and "Traceback" not in err


def test_evaluate(tiny_model_dir, crops, capsys):
    assert main(["evaluate", "--data", str(crops), "--model", str(tiny_model_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["count"] == 4 and out["word_accuracy"] == 1.0 and out["cer"] == 0.0
    assert out["images_per_second"] > 0


def test_evaluate_missing_labels(tiny_model_dir, tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path), "--model", str(tiny_model_dir)]) == 2
    assert "no labels.tsv" in capsys.readouterr().err


@pytest.mark.tensorflow
def test_training_evaluate_on_synthetic_and_folder(trained_model_dir, crops, capsys, tmp_path_factory):
    pytest.importorskip("tensorflow")
    from training.evaluate import main as tmain

    tiny_model_dir = trained_model_dir  # (with model.keras)

    tmain(["--model", str(tiny_model_dir), "--data", f"folder:{crops}", "--json"])
    onnx = json.loads(capsys.readouterr().out)
    tmain(["--model", str(tiny_model_dir), "--data", f"folder:{crops}", "--json", "--keras"])
    keras = json.loads(capsys.readouterr().out)
    assert onnx["word_accuracy"] == keras["word_accuracy"] == 1.0
    tmain(["--model", str(tiny_model_dir), "--data", "synthetic:test", "--num", "20", "--json"])
    synth = json.loads(capsys.readouterr().out)
    assert synth["count"] == 20 and synth["data"] == "synthetic-test"

    # a run still training (best.keras + config.json, no model/ yet): --keras reads its best
    # checkpoint; without --keras, a clear error says so instead of "no ONNX model"
    import shutil

    run = tmp_path_factory.mktemp("run_in_progress")
    shutil.copyfile(tiny_model_dir / "model.keras", run / "best.keras")
    shutil.copyfile(tiny_model_dir / "config.json", run / "config.json")
    tmain(["--model", str(run), "--data", f"folder:{crops}", "--json", "--keras"])
    assert json.loads(capsys.readouterr().out)["word_accuracy"] == 1.0
    with pytest.raises(SystemExit):
        tmain(["--model", str(run), "--data", f"folder:{crops}"])
    err = capsys.readouterr().err
    assert "no exported model yet" in err and "with --keras" in err

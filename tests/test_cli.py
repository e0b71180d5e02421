"""ctc-recognizer predict / evaluate (on the committed tiny ONNX model, without TensorFlow),
and training.evaluate (on a model trained now)."""

import json

import pytest
from PIL import Image

from ctc_recognizer.cli import main
from ctc_recognizer.input_check import MULTILINE_WARNING
from tests.conftest import render_lines, render_word


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


def test_plain_predict_prints_the_warning_on_stderr(tiny_model_dir, crops, tmp_path, capsys):
    para = tmp_path / "paragraph.png"
    Image.fromarray(render_lines(["The quick brown fox", "jumps over the lazy", "dog and runs away."])).save(para)
    assert main(["predict", str(crops / "0.png"), str(para), "--model", str(tiny_model_dir)]) == 0
    out, err = capsys.readouterr()
    rows = [line.split("\t") for line in out.splitlines()]
    assert [r[0] for r in rows] == [str(crops / "0.png"), str(para)] and all(len(r) == 3 for r in rows)
    assert err == f"{para}: warning: {MULTILINE_WARNING}\n"  # a clean word crop gets none
    assert main(["predict", str(para), "--model", str(tiny_model_dir), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["warning"] == MULTILINE_WARNING and err == ""


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


@pytest.mark.slow
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


def _bar_in(text: str) -> bool:
    return "img/s" in text or "4/4" in text


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_no_progress_bar_without_a_terminal_or_with_quiet(tiny_model_dir, crops, capsys, command):
    args = ([str(crops / f"{i}.png") for i in range(4)] if command == "predict" else ["--data", str(crops)])
    for extra in ([], ["--quiet"]):
        assert main([command, *args, "--model", str(tiny_model_dir), *extra]) == 0
        out, err = capsys.readouterr()
        assert err == "" and not _bar_in(err)
        assert "tree" in out or "word accuracy" in out


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_progress_flag_shows_the_bar_on_stderr_only(tiny_model_dir, crops, capsys, command):
    args = ([str(crops / f"{i}.png") for i in range(4)] if command == "predict" else ["--data", str(crops)])
    assert main([command, *args, "--model", str(tiny_model_dir), "--progress", "--json", "--batch-size", "3"]) == 0
    out, err = capsys.readouterr()
    assert _bar_in(err) and "100%" in err
    rows = [json.loads(line) for line in out.splitlines()]  # stdout stays machine-readable
    assert (len(rows) == 4 and rows[1]["text"] == "coffee") if command == "predict" else rows[0]["count"] == 4


def test_a_terminal_gets_the_bar_and_quiet_turns_it_off(tiny_model_dir, crops):
    """stderr on a real pseudo-terminal: the bar appears by itself; --quiet removes it."""
    import fcntl
    import os
    import struct
    import subprocess
    import sys
    import termios

    from tests.conftest import ROOT

    def run(*extra):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a fresh pty has 0 columns
        try:
            proc = subprocess.Popen([sys.executable, "-m", "ctc_recognizer", "predict", str(crops / "0.png"),
                                     str(crops / "1.png"), "--model", str(tiny_model_dir), *extra],
                                    stdout=subprocess.PIPE, stderr=slave, cwd=ROOT,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
        finally:
            os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            err += chunk
        os.close(master)
        out = proc.stdout.read().decode()
        assert proc.wait(timeout=60) == 0, err.decode(errors="replace")
        return out, err.decode(errors="replace")

    out, err = run()
    assert "2/2" in err and "reading" in err
    assert out.split("\n")[0].split("\t")[1] == "tree"
    out, err = run("--quiet")
    assert "2/2" not in err and "reading" not in err and "tree" in out


def test_predict_reads_in_batches_and_names_a_bad_batch_size(tiny_model_dir, crops, capsys, monkeypatch):
    from ctc_recognizer import Recognizer

    calls = []
    real_call = Recognizer.__call__
    monkeypatch.setattr(Recognizer, "__call__", lambda self, images, **kw: calls.append(len(images)) or
                        real_call(self, images, **kw))
    images = [str(crops / f"{i}.png") for i in range(4)]
    assert main(["predict", *images, "--model", str(tiny_model_dir), "--batch-size", "3"]) == 0
    assert calls == [3, 1]
    assert [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()] == ["tree", "coffee", "zebra", "milk"]
    assert main(["predict", *images, "--model", str(tiny_model_dir), "--batch-size", "0"]) == 2
    assert "--batch-size must be >= 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_recheck_reaches_the_recognizer_and_a_bad_value_is_named(tiny_model_dir, crops, capsys, monkeypatch,
                                                                  command):
    from ctc_recognizer import Recognizer

    seen = []
    real_call = Recognizer.__call__
    monkeypatch.setattr(Recognizer, "__call__", lambda self, images, **kw: seen.append(kw.get("recheck", "default"))
                        or real_call(self, images, **kw))
    target = [str(crops / "0.png")] if command == "predict" else ["--data", str(crops)]
    base = [command, *target, "--model", str(tiny_model_dir), "-q"]
    assert main(base) == 0 and main(base + ["--recheck", "0"]) == 0 and main(base + ["--recheck", "0.5"]) == 0
    assert seen == ["default", 0.0, 0.5]
    capsys.readouterr()
    assert main(base + ["--recheck", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "recheck must be a number from 0 (off) to 1, got 1.5" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and seen == ["default", 0.0, 0.5]  # said once, nothing read

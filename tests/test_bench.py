"""The benchmark scripts run end to end on a tiny model (their numbers are not checked: speed
targets are read from their printed tables, never asserted in unit tests)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import load_script

ROOT = Path(__file__).resolve().parents[1]


def test_speed_script_times_models_in_turns(tiny_model_dir, tmp_path):
    js = tmp_path / "speed.json"
    out = subprocess.run([sys.executable, "bench/speed.py", "--archs", "--peers", "--model", f"tiny={tiny_model_dir}",
                          f"again={tiny_model_dir}", "--rounds", "2", "--seconds", "0.05", "--json-out", str(js)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = json.loads(js.read_text())["rows"]
    # each model, then the same graph at its long-crop width
    assert [r["model"] for r in rows] == ["tiny", "tiny (long crops, 192 px)", "again", "again (long crops, 192 px)"]
    assert all(r["words_per_s_batch64"] > 0 and r["ms_batch1"] > 0 for r in rows)
    printed = [ln for ln in out.stdout.splitlines() if ln.startswith(("tiny", "again"))]
    assert len(printed) == 4


def test_compare_script_scores_engines_on_the_same_words(tiny_model_dir, tmp_path):
    js, md = tmp_path / "r.json", tmp_path / "r.md"
    out = subprocess.run([sys.executable, "bench/compare.py", "--engines", "default", "--model",
                          f"tiny={tiny_model_dir}", "--synthetic-words", "12", "--synthetic-clean", "0",
                          "--synthetic", "0", "--curved", "0", "--batch1-images", "4", "--json-out", str(js),
                          "--markdown-out", str(md)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = json.loads(js.read_text())
    assert {r["engine"] for r in rows} == {"default", "tiny"}
    assert all(r["data"] == "synthetic words, clean, held-out fonts (12)" for r in rows)
    assert all(0 <= r["word_accuracy"] <= r["word_accuracy_ci"] <= 1 and r["words_per_s_batch64"] > 0 for r in rows)
    assert "| synthetic words, clean, held-out fonts (12) | tiny |" in md.read_text()
    acc = subprocess.run([sys.executable, "bench/compare.py", "--engines", "--model", f"tiny={tiny_model_dir}",
                          "--synthetic-words", "6", "--synthetic-clean", "0", "--synthetic", "0", "--curved", "0",
                          "--accuracy-only", "--json-out", str(js)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert acc.returncode == 0, acc.stderr
    assert [r["words_per_s_batch64"] for r in json.loads(js.read_text())] == [None]


def test_paired_script_counts_the_words_one_model_reads_and_the_other_misses(tiny_model_dir):
    sys.path.insert(0, str(ROOT / "bench"))
    from paired import mcnemar_p

    assert mcnemar_p(0, 0) == 1.0 and mcnemar_p(5, 5) == 1.0
    assert abs(mcnemar_p(0, 6) - 2 / 64) < 1e-12 and mcnemar_p(15, 62) < 1e-6
    # the bundled model against the tiny one (the same vocabulary is required: refused here)
    out = subprocess.run([sys.executable, "bench/paired.py", "--models", "ctc_recognizer/models/default",
                          str(tiny_model_dir), "--data", "synthetic-words:test", "--num", "8"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "different vocabularies" in out.stderr
    out = subprocess.run([sys.executable, "bench/paired.py", "--models", str(tiny_model_dir), str(tiny_model_dir),
                          "--data", "synthetic-words:test", "per-font:val", "--num", "8", "--per-font", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "synthetic-words:test: 8 words" in out.stdout and "per-font:val:" in out.stdout
    # a model against itself: no word read by one and missed by the other
    assert out.stdout.count("wrong: 0; the reverse: 0; McNemar p = 1") == 2


def test_paired_script_scores_the_standard_protocol_on_request(tiny_model_dir, tmp_path):
    from tests.conftest import TINY_WORDS
    from tests.helpers import make_labels_folder

    crops = make_labels_folder(tmp_path / "crops", TINY_WORDS[:6])
    labels = crops / "labels.tsv"  # the same words, labelled upper case with a full stop
    labels.write_text("".join(f"{ln.split(chr(9))[0]}\t{ln.split(chr(9))[1].upper()}.\n"
                              for ln in labels.read_text().splitlines()))

    def accuracy(*extra):
        out = subprocess.run([sys.executable, "bench/paired.py", "--models", str(tiny_model_dir), str(tiny_model_dir),
                              "--data", f"folder:{crops}", *extra], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        return float(out.stdout.splitlines()[1].split("%")[0])

    assert accuracy() == 0.0 and accuracy("--standard") >= 50.0


@pytest.mark.slow
def test_training_speed_script_times_float32_and_mixed_bfloat16_side_by_side():
    pytest.importorskip("tensorflow")
    out = subprocess.run([sys.executable, "bench/train_speed.py", "--arch", "crnn_small", "--batch-size", "4",
                          "--steps", "2", "--threads", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [ln.split() for ln in out.stdout.splitlines() if "ms/step" in ln]
    assert [r[0] for r in rows] == ["float32:", "mixed_bfloat16:"] and all(float(r[1]) > 0 for r in rows)


def test_curves_script_pools_real_validation_by_crop_count_epoch_by_epoch(tmp_path, capsys):
    curves = load_script("bench/curves.py", "curves")
    listing = tmp_path / "val.txt"
    listing.write_text("# real validation\nic15-train/a.png\nic15-train/b.png\nic15-train/c.png\nsvt-train/d.png\n")
    header = "epoch,loss,val_ic15-train-val_word_acc,val_ic15-train-val_word_acc_std,val_svt-train-val_word_acc_std," \
             "val_synthetic_word_acc,test_ic15-train_word_acc_std,val_word_acc\n"
    for name, rows in (("control", ["0,9,0.1,0.5,1.0,0.25,0.9,0.3", "1,8,0.2,0.6,1.0,0.5,0.9,0.4"]),
                       ("arm", ["0,9,0.1,0.25,0.0,0.75,0.9,0.3"])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "history.csv").write_text(header + "\n".join(rows) + "\n")
        (tmp_path / name / "train_config.json").write_text(json.dumps({"val_list": str(listing)}))
    curves.main([str(tmp_path / "control"), str(tmp_path / "arm")])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "epoch 1"
    assert out[1].split(": ", 1)[1] == "real  62.5 (ic15-train 50.0 svt-train 100.0), synthetic 25.0"  # (3 x 50 + 100) / 4
    assert out[2].split(": ", 1)[1] == "real  18.8 (ic15-train 25.0 svt-train  0.0), synthetic 75.0"
    assert out[3:] == ["epoch 2", out[4], "               arm: -"] and "real  70.0" in out[4]
    with pytest.raises(SystemExit, match="no history.csv"):
        curves.main([str(tmp_path)])

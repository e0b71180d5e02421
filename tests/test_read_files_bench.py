"""bench/read_files.py prints the network-only and end-to-end rates in one run, with and
without the recognizer's second look (recheck), and the share of crops read twice."""

import subprocess
import sys

import numpy as np

from tests.conftest import ROOT
from tests.helpers import load_script, make_labels_folder


def _run(*args):
    out = subprocess.run([sys.executable, "bench/read_files.py", "--rounds", "1", "--batch-size", "8", *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_read_files_bench_prints_network_and_end_to_end_rows(tiny_model_dir):
    out = _run("--num", "24", "--model", str(tiny_model_dir), "--workers", "0", "2", "--json")
    assert "24 PNG word crops, batch 8" in out and "a second time" in out
    for row in ("network only (predict_probs on preprocessed images)",
                "end to end from files, num_workers=0", "end to end from files, num_workers=2",
                "end to end from files, num_workers=2, recheck=0"):
        assert row in out
    assert '"share_of_network": 1.0' in out


def test_read_files_bench_reads_a_data_source(tiny_model_dir, tmp_path):
    folder = make_labels_folder(tmp_path / "crops", ["tree", "coffee", "zebra"])
    out = _run("--data", f"folder:{folder}", "--model", str(tiny_model_dir), "--workers", "0")
    assert f"3 crops of folder:{folder}, batch 8" in out


def test_second_look_share_counts_the_crops_read_twice(recognizer, monkeypatch, tmp_path):
    from PIL import Image

    bench = load_script("bench/read_files.py", "read_files_bench")
    paths = []
    for i, height in enumerate((40, 40, 9)):  # a 9-row crop is too short to trim: read once
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(np.full((height, 60, 3), 200, dtype=np.uint8)).save(paths[-1])

    class Unsure:  # every crop reads blank at 0.5: below the default recheck
        def run(self, names, feeds):
            batch = next(iter(feeds.values()))
            probs = np.full((len(batch), batch.shape[2] // 4, recognizer.charset.num_classes), 0.0, np.float32)
            probs[..., recognizer.charset.blank_index] = 0.5
            probs[..., 0] = 0.5
            return [probs]

    monkeypatch.setattr(recognizer, "session", Unsure())
    monkeypatch.setattr("ctc_recognizer.recognizer.has_no_text", lambda image: False)
    assert bench.second_look_share(recognizer, paths, 8) == 2 / 3
    assert isinstance(recognizer.session, Unsure)  # put back

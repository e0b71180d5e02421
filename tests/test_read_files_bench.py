"""bench/read_files.py prints the network-only and end-to-end rates in one run."""

import subprocess
import sys

from tests.conftest import ROOT


def test_read_files_bench_prints_network_and_end_to_end_rows(tiny_model_dir):
    out = subprocess.run([sys.executable, "bench/read_files.py", "--num", "24", "--rounds", "1",
                          "--batch-size", "8", "--model", str(tiny_model_dir), "--workers", "0", "2", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "24 PNG word crops, batch 8" in out.stdout
    for row in ("network only (predict_probs on preprocessed images)",
                "end to end from PNG files, num_workers=0", "end to end from PNG files, num_workers=2"):
        assert row in out.stdout
    assert '"share_of_network": 1.0' in out.stdout

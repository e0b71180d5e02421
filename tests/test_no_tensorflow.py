"""The inference library and its tests run without TensorFlow: a library test module, run in
a fresh pytest process, never imports tensorflow, keras, tf2onnx or training/."""

import os
import subprocess
import sys

from tests.conftest import FIXTURE_MODEL_DIR, IMPORTED_MODULES_REPORT_ENV, ROOT


def test_committed_fixture_is_small_and_inference_only():
    names = sorted(p.name for p in FIXTURE_MODEL_DIR.iterdir())
    assert names == ["config.json", "model.onnx"]
    assert sum(p.stat().st_size for p in FIXTURE_MODEL_DIR.iterdir()) < 600_000


def test_cli_tests_never_import_tensorflow(tmp_path):
    report = tmp_path / "modules.txt"
    env = {**os.environ, IMPORTED_MODULES_REPORT_ENV: str(report), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "pytest", "tests/test_cli.py", "-q", "-x", "-p", "no:cacheprovider",
                          "-m", "not slow and not tensorflow"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout
    assert report.read_text() == ""  # no tensorflow / keras / tf2onnx / training module

"""The inference library and its tests run without TensorFlow: the library test modules, run in
a fresh pytest process, never import tensorflow, keras, tf2onnx or training/."""

import os
import subprocess
import sys

import pytest

from tests.conftest import FIXTURE_MODEL_DIR, IMPORTED_MODULES_REPORT_ENV, ROOT


def test_committed_fixture_is_small_and_inference_only():
    names = sorted(p.name for p in FIXTURE_MODEL_DIR.iterdir())
    assert names == ["config.json", "model.onnx"]
    assert sum(p.stat().st_size for p in FIXTURE_MODEL_DIR.iterdir()) < 600_000


#: The test modules of the inference library and its CLI (those that exist are run).
LIBRARY_TEST_MODULES = ("test_cli", "test_recognizer", "test_boxes", "test_input_check", "test_postprocessing",
                        "test_safety", "test_config", "test_files", "test_preprocessing", "test_decoding",
                        "test_charset", "test_metrics")


@pytest.mark.slow  # (no tensorflow mark: it checks that TensorFlow is NOT needed)
def test_library_tests_never_import_tensorflow(tmp_path):
    """Every library test module (its TensorFlow-marked tests left out), run in one fresh pytest
    process, passes without importing tensorflow, keras, tf2onnx or training/."""
    modules = [f"tests/{name}.py" for name in LIBRARY_TEST_MODULES if (ROOT / "tests" / f"{name}.py").is_file()]
    assert "tests/test_cli.py" in modules and "tests/test_recognizer.py" in modules and len(modules) >= 8
    report = tmp_path / "modules.txt"
    env = {**os.environ, IMPORTED_MODULES_REPORT_ENV: str(report), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "pytest", *modules, "-q", "-p", "no:cacheprovider",
                          "-m", "not tensorflow"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout
    assert report.read_text() == ""  # no tensorflow / keras / tf2onnx / training module

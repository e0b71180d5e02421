"""Rebuild the committed test model ``tests/fixtures/tiny_model/`` (config.json + model.onnx).

Run once by hand (needs TensorFlow and training/; takes a minute or two on a CPU)::

    CUDA_VISIBLE_DEVICES="" TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python scripts/make_test_fixture.py

It trains the ``crnn_small`` architecture on the clean rendered words of ``tests/conftest.py``
(``TINY_WORDS``, vocab ``TINY_VOCAB``) until it reads them, exports it to ONNX with a dynamic
input width (so the long-crop reading is exercised), and keeps only the inference files. The
library and CLI tests load this folder with ONNX Runtime and never import TensorFlow; tests of
training code still train their own model (``trained_model_dir`` in conftest).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIXTURE_DIR = ROOT / "tests" / "fixtures" / "tiny_model"
KEEP = ("config.json", "model.onnx")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=FIXTURE_DIR, help="fixture folder (replaced)")
    args = parser.parse_args(argv)

    from tests.helpers import train_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        train_tiny_model(Path(tmp))
        staging = args.output.with_name(args.output.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in KEEP:
            shutil.copyfile(Path(tmp) / name, staging / name)
    old = args.output.with_name(args.output.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if args.output.exists():
        args.output.rename(old)
    staging.rename(args.output)
    shutil.rmtree(old, ignore_errors=True)
    for name in KEEP:
        size = (args.output / name).stat().st_size
        print(f"{args.output / name}: {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

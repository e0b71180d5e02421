"""How faithfully int8 models read compared with their fp32 model, per calibration method.

    python bench/int8_calibration.py [--model ctc_recognizer/models/default] [--num 10000]
                                     [--methods minmax percentile] [--sets synthetic-clean:val ...]

Quantizes a copy of the fp32 model once per ``training.export.quantize_int8`` calibration
method (same calibration images, the default 256 training-font renders) and reads the same
validation renders (held-out validation fonts: never the test sets, so a method chosen here is
not chosen on test data) with fp32 and every int8 model. Per set it prints fp32's word
accuracy, each int8 model's difference, and how many words it lost (fp32 right, int8 wrong) and
gained (the reverse): few flips in both directions = an int8 model that reads as fp32 does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ctc_recognizer import Recognizer  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "ctc_recognizer" / "models" / "default"))
    p.add_argument("--methods", nargs="+", default=["minmax", "percentile"])
    p.add_argument("--sets", nargs="+", default=["synthetic-clean:val", "synthetic-words:val", "synthetic:val"])
    p.add_argument("--num", type=int, default=10000, help="renders per set")
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args(argv)

    from training.evaluate import load_eval_data
    from training.export import quantize_int8

    fp32 = Recognizer.from_pretrained(args.model)
    engines = {}
    with tempfile.TemporaryDirectory(prefix="int8_calibration_") as tmp:
        for method in args.methods:
            d = Path(tmp) / method
            shutil.copytree(fp32.model_dir, d, ignore=shutil.ignore_patterns("*.int8.onnx"))
            quantize_int8(d, calibration_method=method)
            engines[method] = Recognizer.from_pretrained(d, model_file="model.int8.onnx")
        print(f"model {args.model}; {args.num} renders per set (seed {args.seed})")
        for kind in args.sets:
            images, texts, _ = load_eval_data(kind, args.num, seed=args.seed, vocab=fp32.config.vocab)
            ref = np.array([p.text == t for p, t in zip(fp32(images, batch_size=64), texts)])
            cells = []
            for name, rec in engines.items():
                ok = np.array([p.text == t for p, t in zip(rec(images, batch_size=64), texts)])
                cells.append(f"{name} {100 * (ok.mean() - ref.mean()):+.2f} "
                             f"(lost {int((ref & ~ok).sum())}, gained {int((~ref & ok).sum())})")
            print(f"{kind} ({len(texts)}): fp32 {100 * ref.mean():.2f}% | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()

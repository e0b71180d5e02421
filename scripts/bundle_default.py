"""Copy a finished training run's exported model into the package as the bundled default
(the same layout as on the Hub), optionally with an int8 variant, and use model_card.md as its
README.

    python scripts/bundle_default.py runs/default
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctc_recognizer.recognizer import DEFAULT_MODEL_DIR  # noqa: E402

FILES = ("config.json", "model.onnx", "model.keras", "train_config.json")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("run", help="training run folder (with model/)")
    p.add_argument("--int8", action="store_true",
                   help="also bundle model.int8.onnx (faster on CPUs with VNNI)")
    args = p.parse_args(argv)
    src = Path(args.run) / "model"
    if not (src / "model.onnx").is_file():
        raise SystemExit(f"{src} holds no exported model; finish (or --resume) the run first")
    tmp = DEFAULT_MODEL_DIR.with_name(".default.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in FILES:
        if (src / name).is_file():
            shutil.copyfile(src / name, tmp / name)
    if args.int8:
        from training.export import quantize_int8

        quantize_int8(tmp)
    card = ROOT / "model_card.md"
    if card.is_file():
        shutil.copyfile(card, tmp / "README.md")
    old = DEFAULT_MODEL_DIR.with_name(".default.old")
    shutil.rmtree(old, ignore_errors=True)
    if DEFAULT_MODEL_DIR.exists():
        DEFAULT_MODEL_DIR.rename(old)
    tmp.rename(DEFAULT_MODEL_DIR)
    shutil.rmtree(old, ignore_errors=True)
    print(f"bundled {src} -> {DEFAULT_MODEL_DIR}: {sorted(p.name for p in DEFAULT_MODEL_DIR.iterdir())}")


if __name__ == "__main__":
    main()

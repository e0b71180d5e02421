"""Copy a finished training run's exported model into the package as the bundled default
(the same layout as on the Hub), optionally with an int8 variant, and use model_card.md as its
README. The Keras model and the training recipe (for fine-tuning and averaging, never needed
to read text) go to training/pretrained/default, outside the inference package.

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
from training.locate import PRETRAINED_DIR  # noqa: E402

FILES = ("config.json", "model.onnx")  # the inference package's
TRAINING_FILES = ("model.keras", "train_config.json")  # training/pretrained/default's


def _swap_in(tmp: Path, target: Path) -> None:
    """Replace folder ``target`` by ``tmp`` (renames: never a half-written folder)."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


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
    pretrained = PRETRAINED_DIR / DEFAULT_MODEL_DIR.name
    tmp_train = pretrained.with_name(f".{pretrained.name}.tmp")
    shutil.rmtree(tmp_train, ignore_errors=True)
    tmp_train.mkdir(parents=True)
    for name in TRAINING_FILES:
        if (src / name).is_file():
            shutil.copyfile(src / name, tmp_train / name)
    _swap_in(tmp, DEFAULT_MODEL_DIR)
    _swap_in(tmp_train, pretrained)
    for folder in (DEFAULT_MODEL_DIR, pretrained):
        print(f"bundled {src} -> {folder}: {sorted(p.name for p in folder.iterdir())}")


if __name__ == "__main__":
    main()

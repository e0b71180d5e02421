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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctc_recognizer.config import RecognizerConfig  # noqa: E402
from ctc_recognizer.preprocessing import fit_to_model, read_image  # noqa: E402
from ctc_recognizer.recognizer import DEFAULT_MODEL_DIR  # noqa: E402

FILES = ("config.json", "model.onnx", "model.keras", "train_config.json")


def real_training_crops(n: int) -> list[Path]:
    """Up to ``n`` real crops of ../shared/data that are not in the real holdout list (for
    int8 calibration), spread over the sources; none if the folder is absent."""
    from training.data import REAL_HOLDOUT_LIST, SHARED_DATA, read_holdout_list

    held_out = read_holdout_list(REAL_HOLDOUT_LIST)
    files = sorted(f for f in SHARED_DATA.glob("**/*.jpg") if f"{f.parent.name}/{f.name}" not in held_out)
    return files[:: max(1, len(files) // n)][:n]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("run", help="training run folder (with model/)")
    p.add_argument("--int8", action="store_true",
                   help="also bundle model.int8.onnx (only worth it where it is faster: VNNI CPUs)")
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
        from training.synth import WordRenderer

        config = RecognizerConfig.load(tmp)
        r = WordRenderer("train", seed=77, vocab=config.vocab)
        calib = [fit_to_model(r.render(i)[0], config)[0] for i in range(384)]
        calib += [fit_to_model(read_image(f), config)[0] for f in real_training_crops(256)]
        quantize_int8(tmp, np.stack(calib))
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

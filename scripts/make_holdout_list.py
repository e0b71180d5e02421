"""Write the project's fixed real-image holdout list (run once; the list is committed).

    python scripts/make_holdout_list.py [--data ../shared/data] [--out training/splits/real_holdout.txt]

10% of every real source, chosen by SHA-1 of "holdout:<file name>" (the rule
``training.data.holdout_split`` has always used, so models trained before the list existed
never saw these files either). Training excludes them (``--holdout-list``); bench/compare.py
``--real-holdout`` and ``python -m training.evaluate --data real-holdout`` read them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.data import holdout_key, holdout_split, read_labels_tsv  # noqa: E402

SOURCES = ["iiit5k-train", "real-train/svt-train", "real-train/ic15-train", "real-train/ic03-train-filtered"]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--out", default=str(ROOT / "training" / "splits" / "real_holdout.txt"))
    p.add_argument("--fraction", type=float, default=0.1)
    args = p.parse_args(argv)
    lines = [
        "# The project's real-image test set: never trained on, never selected on.",
        f"# {args.fraction:.0%} of each source of ../shared/data, chosen by SHA-1 of 'holdout:<file name>'",
        "# (scripts/make_holdout_list.py). One <folder>/<file> per line.",
    ]
    for src in SOURCES:
        samples = read_labels_tsv(Path(args.data) / src)
        _, val = holdout_split(samples, args.fraction)
        keys = sorted(holdout_key(val, i) for i in range(len(val)))
        lines.append(f"# {src}: {len(keys)} of {len(samples)}")
        lines += keys
        print(f"{src}: {len(keys)} of {len(samples)} held out")
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

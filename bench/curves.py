"""Training runs side by side, epoch by epoch, from the validation numbers each logged in its
``history.csv``: runs of one recipe that differ in one option compare at equal steps row by
row (the ablation against a finished run's history, without training the control again).

    python bench/curves.py runs/scratch_val runs/abl_wide

Per run and epoch: real validation under the standard protocol (``*_word_acc_std``), pooled
over the real sets in proportion to their crops (counted in the run's ``--val-list``; equal
weights without one) and per set, then exact word accuracy on each rendered set.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.data import read_holdout_list  # noqa: E402  (how split lists are read, comments and all)

STD = re.compile(r"^val_(.+)_word_acc_std$")


def read_run(run: Path) -> tuple[dict[int, dict[str, float]], dict[str, int]]:
    """(epoch -> metrics, real validation set -> crops) of one run folder."""
    history = run / "history.csv"
    if not history.is_file():
        raise SystemExit(f"{run}: no history.csv (not a training run folder)")
    rows: dict[int, dict[str, float]] = {}
    with open(history, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("epoch", "").isdigit():
                rows[int(r["epoch"])] = {k: float(v) for k, v in r.items() if k != "epoch" and v not in ("", None)}
    sizes: dict[str, int] = {}
    config = run / "train_config.json"
    val_list = json.loads(config.read_text()).get("val_list") if config.is_file() else None
    if val_list:
        path = Path(val_list) if Path(val_list).is_absolute() else ROOT / val_list
        if path.is_file():
            names = read_holdout_list(path)
            sizes = {f"{folder}-val": n for folder, n in Counter(k.split("/")[0] for k in names).items()}
    return rows, sizes


def summary(metrics: dict[str, float], sizes: dict[str, int]) -> str:
    real = {m.group(1): v for k, v in metrics.items() if (m := STD.match(k))}
    parts = []
    if real:
        weights = {s: sizes.get(s, 0) for s in real} if all(sizes.get(s) for s in real) else dict.fromkeys(real, 1)
        pooled = sum(real[s] * weights[s] for s in real) / sum(weights.values())
        parts.append(f"real {100 * pooled:5.1f} (" + " ".join(f"{s.removesuffix('-val')} {100 * v:4.1f}"
                                                           for s, v in sorted(real.items())) + ")")
    rendered = {k[4:-9]: v for k, v in metrics.items()
                if k.startswith("val_") and k.endswith("_word_acc") and f"{k}_std" not in metrics
                and k != "val_word_acc"}
    parts += [f"{s} {100 * v:4.1f}" for s, v in sorted(rendered.items())]
    return ", ".join(parts) or "no validation numbers"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="training run folders (with history.csv)")
    args = ap.parse_args(argv)
    runs = {run: read_run(run) for run in args.runs}
    last = max((max(rows) for rows, _ in runs.values() if rows), default=-1)
    for epoch in range(last + 1):
        print(f"epoch {epoch + 1}")
        for run, (rows, sizes) in runs.items():
            print(f"  {run.name:>16}: " + (summary(rows[epoch], sizes) if epoch in rows else "-"))


if __name__ == "__main__":
    sys.exit(main())

"""Rewrite the YAML front matter of model_card.md (the Hub README of the default model) from a
bench/compare.py JSON: the ``model-index`` gets one result per data set for ENGINE.

    python scripts/card_metadata.py bench/results.json [--engine default] [--card model_card.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctc_recognizer.files import atomic_write_text  # noqa: E402
from training.hub import model_index  # noqa: E402

METRICS = ("word_accuracy", "word_accuracy_ci", "word_accuracy_std", "cer", "cer_std")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("results")
    p.add_argument("--engine", default="default")
    p.add_argument("--card", default=str(ROOT / "model_card.md"))
    p.add_argument("--name", default="ctc-recognizer/crnn-word")
    args = p.parse_args(argv)
    rows = [r for r in json.loads(Path(args.results).read_text()) if r["engine"] == args.engine]
    if not rows:
        raise SystemExit(f"no rows for engine {args.engine!r} in {args.results}")
    card = Path(args.card).read_text(encoding="utf-8")
    if not card.startswith("---\n") or "\n---\n" not in card[4:]:
        raise SystemExit(f"{args.card} has no YAML front matter")
    head, body = card[4:].split("\n---\n", 1)
    meta = yaml.safe_load(head)
    meta["model-index"] = model_index(args.name, {r["data"]: {k: r[k] for k in METRICS} for r in rows})
    text = "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + body
    atomic_write_text(args.card, text)
    print(f"{args.card}: model-index from {len(rows)} {args.engine} rows")


if __name__ == "__main__":
    main()

"""Font-level hard-example mining: which training fonts does a model still misread?

Renders ``--per-font`` clean words in every font file of a split, reads them with a trained
model (ONNX, through :class:`ctc_recognizer.Recognizer`), and writes a JSON table of the words
misread per font file. ``python -m training.train --synth-hard-fonts table.json`` then draws a
share of the synthetic training fonts in proportion to those errors, so the next fine-tune
sees more of the shapes the model gets wrong (an italic ``h`` whose leg curls into a ``b``, a
condensed ``rn`` that looks like ``m``) instead of more of what it already reads.

Mine the *training* split only: mining validation or test fonts and training on what it finds
would leak the held-out fonts into training (the trainer only ever renders training fonts).

    python -m training.mine_fonts --model runs/exp1/model --per-font 40 --output runs/exp1/hard_fonts.json

Tables are keyed by :func:`training.synth.font_key` (the path below the font folder);
``experiments/font_weights/stage13_train.json`` (stage 15's) predates that and is keyed by file
name, which the trainer still reads.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys

from ctc_recognizer.files import atomic_write_text

from .evaluate import read_texts
from .synth import render_font_words

logger = logging.getLogger(__name__)


def mine(recognizer, split: str = "train", per_font: int = 40, seed: int = 0, text: str = "words",
         workers: int | None = None, batch_size: int = 64, fonts=None) -> dict:
    """The mining table (see the module docstring) for ``recognizer`` on the fonts of ``split``
    (or the given ``FontInfo`` list), keyed by :func:`training.synth.font_key`."""
    from .synth import discover_fonts, font_key

    infos = list(fonts) if fonts is not None else list(discover_fonts()[split])
    if not infos:
        raise ValueError(f"no fonts in split {split!r}")
    family = {f.path: f.family for f in infos}
    table: dict[str, dict] = {}
    total = wrong = 0
    for path, images, texts in render_font_words([f.path for f in infos], split, per_font, seed,
                                                 recognizer.config.vocab, text, workers):
        preds = read_texts(recognizer, images, batch_size)
        misses = [[t, p] for t, p in zip(texts, preds) if t != p]
        entry = table.setdefault(font_key(path), {"errors": 0, "words": 0, "family": family[path], "examples": []})
        entry["errors"] += len(misses)
        entry["words"] += len(texts)
        entry["examples"] = (entry["examples"] + misses)[:5]
        total += len(texts)
        wrong += len(misses)
    return {"split": split, "per_font": per_font, "text": text, "seed": seed, "key": "font_key",
            "words": total, "errors": wrong, "fonts": dict(sorted(table.items()))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.mine_fonts", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="model folder or Hub id (default: the bundled model)")
    ap.add_argument("--split", default="train", choices=("train", "val", "test"),
                    help="font split to mine (only a train table can steer training)")
    ap.add_argument("--per-font", type=int, default=40, help="words rendered per font file")
    ap.add_argument("--text", default="words", choices=("words", "mixed"),
                    help="words: dictionary words (the clean-words benchmark's text); mixed: the generator's mix")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--top", type=int, default=15, help="print the N hardest fonts")
    ap.add_argument("--output", required=True, help="JSON table to write")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.per_font < 1:
        ap.error("--per-font must be at least 1")
    from ctc_recognizer import Recognizer

    rec = Recognizer.from_pretrained(args.model)
    table = mine(rec, args.split, args.per_font, args.seed, args.text, args.workers)
    table["model"] = {"path": str(rec.model_dir), "onnx": rec.onnx_path.name,
                      "onnx_sha1": hashlib.sha1(rec.onnx_path.read_bytes()).hexdigest()}
    atomic_write_text(args.output, json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    fonts = table["fonts"]
    print(f"{table['errors']} of {table['words']} words misread "
          f"({100 * table['errors'] / max(1, table['words']):.2f}%) in {len(fonts)} font files; "
          f"{sum(1 for e in fonts.values() if e['errors'])} files with errors")
    for name, e in sorted(fonts.items(), key=lambda kv: -kv[1]["errors"])[:args.top]:
        ex = ", ".join(f"{t}->{p}" for t, p in e["examples"][:3])
        print(f"  {e['errors']:3d}/{e['words']}  {name}  ({e['family']})  {ex}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

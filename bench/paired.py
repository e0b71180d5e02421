"""Two or more models on the same images, compared pairwise: exact word accuracy of each, and
how many words the first model reads right and another wrong (and the reverse). With n words
per set, a difference of a few tenths of a point is noise unless those two counts are
lopsided (McNemar's test; the two-sided p-value is printed).

    python bench/paired.py --models ctc_recognizer/models/default runs/soup/model \\
        --data per-font:val synthetic:val synthetic-words:val --num 10000

``--data``: any data source of ``training.sources`` (``synthetic[-clean|-words]:val|test`` (test:
the frozen sets of bench/sets), ``real-holdout``, ``real-val``, ``folder:PATH``, ``frozen:NAME``...; ``--num``
words, ``--seed`` for rendered validation sets), or ``per-font:train|val``:
``--per-font`` clean dictionary words in every font file of the split, as
``python -m training.mine_fonts`` renders them (each file weighs the same, where the
synthetic sets draw a family first). ``per-font:test`` is refused: it would be rendered now, and
test numbers come only from the frozen sets. ``--standard`` scores under the standard
scene-text protocol (lower case, letters and digits), as real crops are compared:

    python bench/paired.py --standard --models A B --data real-val synthetic-curved:val

``--recheck``: the recognizer's ``recheck`` for each model in turn (one value: for all; default:
the recognizer's own), so that one model can be compared with and without its second look:

    python bench/paired.py --standard --models ctc_recognizer/models/default ctc_recognizer/models/default \\
        --recheck 0 0.95 --data real-val
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs (binomial, p = 1/2)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def load_set(spec: str, num: int, seed: int, per_font: int, vocab: str):
    """Images and labels of any data source (training.sources); the test split of a synthetic
    source is its frozen set (bench/sets)."""
    from training.evaluate import load_eval_data

    try:
        images, texts, _ = load_eval_data(spec, num, seed=seed, vocab=vocab, per_font=per_font)
    except ValueError as exc:
        raise SystemExit(f"--data {spec}: {exc}") from None
    return list(images), list(texts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", required=True, help="model folders (the first is the reference)")
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--num", type=int, default=5000, help="words per evaluate spec")
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--per-font", type=int, default=40, help="words per font file for per-font:train|val")
    ap.add_argument("--standard", action="store_true",
                    help="score under the standard protocol (lower case, letters and digits only)")
    ap.add_argument("--recheck", type=float, nargs="+", default=None,
                    help="Recognizer recheck threshold per model (one value: all models)")
    args = ap.parse_args(argv)
    if len(args.models) < 2:
        ap.error("--models needs at least two models")
    recheck = args.recheck or []
    if len(recheck) not in (0, 1, len(args.models)):
        ap.error(f"--recheck takes one value or one per model ({len(args.models)}), got {len(recheck)}")
    options = [{"recheck": recheck[min(i, len(recheck) - 1)]} if recheck else {}
               for i in range(len(args.models))]
    names = [m + (f" (recheck {o['recheck']:g})" if o else "") for m, o in zip(args.models, options)]
    from ctc_recognizer import Recognizer
    from ctc_recognizer.metrics import standard_text
    from training.evaluate import read_texts

    same = (lambda p, t: standard_text(p) == standard_text(t)) if args.standard else (lambda p, t: p == t)

    recs = [Recognizer.from_pretrained(m) for m in args.models]
    vocabs = {r.config.vocab for r in recs}
    if len(vocabs) > 1:
        raise SystemExit("the models have different vocabularies; compare models of one vocabulary")
    for spec in args.data:
        images, texts = load_set(spec, args.num, args.seed, args.per_font, recs[0].config.vocab)
        right = [[same(p, t) for p, t in zip(read_texts(rec, images, **o), texts)]
                 for rec, o in zip(recs, options)]
        print(f"{spec}: {len(texts)} words")
        for m, r in zip(names, right):
            print(f"  {100 * sum(r) / max(1, len(r)):6.2f}%  {m}")
        for m, r in zip(names[1:], right[1:]):
            b = sum(1 for x, y in zip(right[0], r) if x and not y)
            c = sum(1 for x, y in zip(right[0], r) if y and not x)
            print(f"  {names[0]} right, {m} wrong: {b}; the reverse: {c}; McNemar p = {mcnemar_p(b, c):.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

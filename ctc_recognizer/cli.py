"""``ctc-recognizer`` command line.

    ctc-recognizer predict IMAGE... [--model ID_OR_DIR] [--json] [--decoder beam --lexicon FILE]
    ctc-recognizer evaluate --data DIR_WITH_labels.tsv [--model ID_OR_DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .errors import RecognizerError


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="Hub repo id or local folder (default: the bundled model)")
    p.add_argument("--revision", default=None, help="Hub branch, tag or commit")
    p.add_argument("--model-file", default=None, help="ONNX file inside the model folder (e.g. model.int8.onnx)")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--decoder", choices=("greedy", "beam"), default="greedy")
    p.add_argument("--beam-width", type=int, default=10)
    p.add_argument("--lexicon", help="file with one allowed word per line (implies beam search)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _load(args):
    from .recognizer import Recognizer

    kwargs = {}
    if args.revision:
        kwargs["revision"] = args.revision
    return Recognizer.from_pretrained(args.model, model_file=args.model_file,
                                      intra_op_num_threads=args.threads, **kwargs)


def _decode_kwargs(args) -> dict:
    kwargs = {"decoder": args.decoder, "beam_width": args.beam_width}
    if args.lexicon:
        path = Path(args.lexicon)
        if not path.is_file():
            raise FileNotFoundError(f"lexicon file {args.lexicon!r} does not exist")
        kwargs["lexicon"] = path.read_text(encoding="utf-8").split()
    return kwargs


def cmd_predict(args) -> int:
    rec = _load(args)
    kwargs = _decode_kwargs(args)
    if "lexicon" in kwargs:
        kwargs["lexicon"] = rec.encode_lexicon(kwargs["lexicon"])
    status = 0
    results = []
    for path in args.images:
        try:
            pred = rec(path, **kwargs)
            results.append({"image": path, **pred.to_dict()})
        except (RecognizerError, FileNotFoundError, ValueError) as exc:
            status = 1
            results.append({"image": path, "error": str(exc)})
    for r in results:
        if args.json:
            print(json.dumps(r, ensure_ascii=False))
        elif "error" in r:
            print(f"{r['image']}\tERROR: {r['error']}", file=sys.stderr)
        else:
            print(f"{r['image']}\t{r['text']}\t{r['confidence']:.3f}")
    return status


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate, read_labels

    rec = _load(args)
    paths, refs = read_labels(args.data)
    kwargs = _decode_kwargs(args)
    if "lexicon" in kwargs:
        kwargs["lexicon"] = rec.encode_lexicon(kwargs["lexicon"])
    result = evaluate(rec, [str(p) for p in paths], refs, batch_size=args.batch_size,
                      progress=not args.json and sys.stderr.isatty(), **kwargs)
    if args.json:
        print(json.dumps({"data": str(args.data), "model": args.model or "default", **result.to_dict()}))
    else:
        m = result.metrics
        print(f"images                          {m.count}")
        print(f"word accuracy                   {m.word_accuracy:.4f}")
        print(f"word accuracy (no case)         {m.word_accuracy_ci:.4f}")
        print(f"CER                             {m.cer:.4f}")
        print(f"WER                             {m.wer:.4f}")
        print(f"word accuracy (std. protocol)   {m.word_accuracy_std:.4f}")
        print(f"CER (std. protocol)             {m.cer_std:.4f}")
        print(f"images/s                        {result.images_per_second:.1f}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="ctc-recognizer", description="Read text in word images.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="read the text in images")
    p.add_argument("images", nargs="+")
    _add_model_args(p)
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("evaluate", help="word accuracy, CER, WER and speed on a labels.tsv folder")
    p.add_argument("--data", required=True, help="folder with images and labels.tsv")
    _add_model_args(p)
    p.set_defaults(func=cmd_evaluate)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except (RecognizerError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``ctc-recognizer`` command line.

    ctc-recognizer predict IMAGE... [--model ID_OR_DIR] [--json] [--decoder beam --lexicon FILE]
    ctc-recognizer evaluate --data DIR_WITH_labels.tsv [--model ID_OR_DIR] [--json]

``predict`` prints one ``IMAGE<TAB>TEXT<TAB>CONFIDENCE`` row per image on stdout; an input
unlikely to be one word or line (several text rows, a page, a low confidence) also gets
``IMAGE: warning: TEXT`` on stderr (``--json`` puts it in the ``warning`` field instead).

Both show a progress bar on stderr when stderr is a terminal; ``--quiet`` turns it off and
``--progress`` turns it on anyway (e.g. into a log file).
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
    p.add_argument("--recheck", type=float, default=None,
                   help="read crops less confident than this (0-1) a second time, trimmed top and "
                        "bottom, and keep the likelier text (default: the library's, 0.95; 0: off)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    shown.add_argument("--progress", action="store_true",
                       help="show the progress bar on stderr even when it is not a terminal")


def _show_progress(args) -> bool:
    """A progress bar on stderr: asked for, or stderr is a terminal and not --quiet."""
    if args.quiet:
        return False
    return args.progress or sys.stderr.isatty()


def _load(args):
    from .recognizer import Recognizer

    kwargs = {}
    if args.revision:
        kwargs["revision"] = args.revision
    return Recognizer.from_pretrained(args.model, model_file=args.model_file,
                                      intra_op_num_threads=args.threads, **kwargs)


def _decode_kwargs(args) -> dict:
    kwargs = {"decoder": args.decoder, "beam_width": args.beam_width}
    if args.recheck is not None:
        from .recognizer import check_recheck

        kwargs["recheck"] = check_recheck(args.recheck)  # one message, before any image is read
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
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    from tqdm import tqdm

    status = 0
    with tqdm(total=len(args.images), unit="img", desc="reading", disable=not _show_progress(args),
              file=sys.stderr) as bar:
        for start in range(0, len(args.images), args.batch_size):
            chunk = args.images[start:start + args.batch_size]
            try:
                preds = rec(chunk, batch_size=args.batch_size, **kwargs)
                results = [{"image": path, **pred.to_dict()} for path, pred in zip(chunk, preds)]
            except (RecognizerError, FileNotFoundError, ValueError):
                results = []  # one bad file: read the chunk one by one to name it
                for path in chunk:
                    try:
                        results.append({"image": path, **rec(path, **kwargs).to_dict()})
                    except (RecognizerError, FileNotFoundError, ValueError) as exc:
                        results.append({"image": path, "error": str(exc)})
            for r in results:
                if "error" in r:
                    status = 1
                if args.json:
                    bar.write(json.dumps(r, ensure_ascii=False), file=sys.stdout)
                elif "error" in r:
                    bar.write(f"{r['image']}\tERROR: {r['error']}", file=sys.stderr)
                else:
                    bar.write(f"{r['image']}\t{r['text']}\t{r['confidence']:.3f}", file=sys.stdout)
                    if r.get("warning"):  # stdout stays one tab-separated row per image
                        bar.write(f"{r['image']}: warning: {r['warning']}", file=sys.stderr)
            bar.update(len(chunk))
    return status


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate, read_labels

    rec = _load(args)
    paths, refs = read_labels(args.data)
    kwargs = _decode_kwargs(args)
    if "lexicon" in kwargs:
        kwargs["lexicon"] = rec.encode_lexicon(kwargs["lexicon"])
    result = evaluate(rec, [str(p) for p in paths], refs, batch_size=args.batch_size,
                      progress=_show_progress(args), **kwargs)
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

"""Compare the project's models with the OCR engines a user would pick instead, on the same
word crops, in one run.

    python bench/compare.py [--synthetic 1000] [--real-holdout] [--folder DIR ...] [--engines ...]
                            [--markdown-out bench/results.md] [--json-out bench/results.json]

Engines: ``default`` (bundled fp32 ONNX), ``default-int8`` (model.int8.onnx if bundled),
``keras`` (the bundled model.keras through TensorFlow), ``seed`` / ``seed-*`` (any model folder
given with ``--model NAME=DIR``), ``tesseract`` (Tesseract 5, ``--psm 8`` single word, one
process per image), ``rapidocr`` (RapidOCR's PP-OCRv4 recognizer from ``rapidocr-onnxruntime``),
``ppocrv6-tiny`` / ``ppocrv6-small`` / ``ppocrv4`` (PaddleOCR recognizers read as PaddleOCR does,
bench/peers.py; fetch them once with ``python scripts/fetch_peer_models.py``).

Data: ``--synthetic-words N``: dictionary words (lower / Title / UPPER case) rendered clean at
their natural size in font families never trained on (``training.synth`` test split, families
drawn uniformly); ``--synthetic-clean N`` / ``--synthetic N``: the generator's full mix (words,
numbers, random codes, punctuation, two-word lines) in those fonts, clean or with the training
degradations (colours, textures, blur, noise, perspective, JPEG); ``--folder DIR`` any folder with ``labels.tsv``;
``--real-holdout`` the project's real-image test set: the crops of ../shared/data named in
``training/splits/real_holdout.txt`` (10% of each source, never trained on), scored as a whole
and per source. For every (engine, data) pair it prints word accuracy (exact and
case-insensitive), the standard scene-text protocol's word accuracy and CER (both sides
lower-cased, letters and digits only; SVT's labels are all upper case, so only this protocol
means anything there), the exact CER, and words/s at batch 1 and batch 64 (preprocessing +
inference + decoding, images already in memory).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ctc_recognizer import Recognizer, compute_metrics  # noqa: E402
from ctc_recognizer.preprocessing import read_image, to_rgb_uint8  # noqa: E402
from peers import PEERS, PaddleRecEngine  # noqa: E402  (bench/peers.py)



# ------------------------------------------------------------------ engines
class OnnxEngine:
    def __init__(self, model_dir, model_file=None):
        self.rec = Recognizer.from_pretrained(model_dir, model_file=model_file)

    def read(self, images, batch_size):
        return [p.text for p in self.rec(images, batch_size=batch_size)]


class KerasEngine:
    def __init__(self, model_dir):
        from training.evaluate import KerasRecognizer

        from training.locate import keras_model

        rec = Recognizer.from_pretrained(model_dir)
        self.k = KerasRecognizer(keras_model(rec.model_dir)[0], rec.config)  # the bundled one's: training/pretrained

    def read(self, images, batch_size):
        out = []
        for i in range(0, len(images), batch_size):
            out += [p.text for p in self.k(images[i:i + batch_size], batch_size=batch_size)]
        return out


class TesseractEngine:
    """Tesseract 5 in single-word mode (``--psm 8``); one process per image, as users call it."""

    batches = False  # no batch mode: its batch-64 rate is its batch-1 rate

    def __init__(self):
        if not shutil.which("tesseract"):
            raise RuntimeError("tesseract is not installed (apt-get install tesseract-ocr)")
        self.tmp = Path(tempfile.mkdtemp(prefix="bench_tess_"))

    def _read_one(self, img, env=None) -> str:
        import cv2

        path = self.tmp / f"w{threading.get_ident()}.png"  # one file per thread (read_parallel)
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        res = subprocess.run(["tesseract", str(path), "stdout", "--psm", "8", "-l", "eng"],
                             capture_output=True, text=True, env=env)
        return res.stdout.strip()

    def read(self, images, batch_size):
        return [self._read_one(img) for img in images]

    def read_parallel(self, images):
        """The same single-word reads, one process per CPU core at a time (accuracy runs only)."""
        from concurrent.futures import ThreadPoolExecutor

        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # the parallelism is the processes
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            return list(pool.map(lambda img: self._read_one(img, env), images))


class RapidOCREngine:
    """RapidOCR's PP-OCRv4 recognizer only (no detection, no angle classifier)."""

    native_batch = 6  # RapidOCR's own rec_batch_num

    def __init__(self):
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR()

    def read(self, images, batch_size):
        import cv2

        rec = self.engine.text_rec
        rec.rec_batch_num = batch_size
        bgr = [cv2.cvtColor(img, cv2.COLOR_RGB2BGR) for img in images]
        out = []
        for i in range(0, len(bgr), batch_size):
            results, _ = rec(bgr[i:i + batch_size])
            out += [t.strip() for t, _ in results]
        return out


# ------------------------------------------------------------------ data
def synthetic_set(kind: str, n: int):
    """The first ``n`` words of a synthetic benchmark set (``synthetic``, ``synthetic-clean``,
    ``synthetic-words`` or ``synthetic-curved``): its frozen files in bench/sets (rendered once in
    the test fonts with seed 2024, ``scripts/freeze_benchmarks.py``), read into memory as RGB arrays."""
    from training.evaluate import load_eval_data

    images, texts, _ = load_eval_data(f"{kind}:test", n, vocab=Recognizer.from_pretrained().config.vocab)
    return [img if not isinstance(img, (str, Path)) else to_rgb_uint8(read_image(img)) for img in images], texts


def folder_set(folder: Path, limit: int | None = None):
    from ctc_recognizer.evaluation import read_labels

    paths, texts = read_labels(folder)
    if limit:
        paths, texts = paths[:limit], texts[:limit]
    return [to_rgb_uint8(read_image(p)) for p in paths], texts


def listed_sets(list_path) -> dict[str, tuple[list, list[str]]]:
    """The project's real crops that a split list names (``training.data.REAL_HOLDOUT_LIST``:
    the test set; ``REAL_VAL_LIST``: the validation set), per source, labels as annotated
    (nothing filtered: every engine is scored on the same crops)."""
    from training.data import real_holdout_sets as listed_samples

    return {name: ([to_rgb_uint8(s.load(i)) for i in range(len(s))], list(s.texts))
            for name, s in listed_samples(list_path=list_path, skip_missing=True).items()}


def _rate(v) -> str:
    return "–" if v is None else f"{v:.0f}"


def timed(engine, images, batch_size, max_images=None):
    subset = images[:max_images] if max_images else images
    engine.read(subset[:min(len(subset), batch_size)], batch_size)  # warm-up
    t = time.perf_counter()
    preds = engine.read(subset, batch_size)
    return preds, len(subset) / (time.perf_counter() - t)


def markdown_table(rows: list[dict]) -> str:
    lines = ["| data | engine | word acc. | word acc. (no case) | word acc. (std.) | CER | CER (std.) "
             "| words/s batch 1 | words/s batch 64 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: list(dict.fromkeys(x["data"] for x in rows)).index(r["data"])):
        lines.append(f"| {r['data']} | {r['engine']} | {r['word_accuracy']:.1%} | {r['word_accuracy_ci']:.1%} | "
                     f"{r['word_accuracy_std']:.1%} | {r['cer']:.1%} | {r['cer_std']:.1%} | "
                     f"{_rate(r['words_per_s_batch1'])} | {_rate(r['words_per_s_batch64'])} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--synthetic", type=int, default=1000,
                   help="held-out-font synthetic words with the training degradations (0: none)")
    p.add_argument("--synthetic-clean", type=int, default=1000,
                   help="held-out-font synthetic words, dark text on white, no degradation (0: none)")
    p.add_argument("--synthetic-words", type=int, default=1000,
                   help="held-out-font dictionary words (lower / Title / UPPER case), clean (0: none)")
    p.add_argument("--curved", type=int, default=1000,
                   help="held-out-font dictionary words on arcs, circles and strong slants (bench/sets/curved-v1; 0: none)")
    p.add_argument("--real-holdout", action="store_true", help="also the held-out real crops of ../shared/data")
    p.add_argument("--real-val", action="store_true",
                   help="also the real validation crops (training/splits/real_val.txt), per source")
    p.add_argument("--folder", nargs="*", default=[], help="extra labels.tsv folders")
    p.add_argument("--model", nargs="*", default=[],
                   help="extra ONNX models as NAME=DIR[:FILE] (e.g. seed=runs/seed/model int8=runs/default/model:model.int8.onnx)")
    p.add_argument("--engines", nargs="*", default=["default", "keras", "tesseract", "rapidocr"])
    p.add_argument("--batch1-images", type=int, default=300, help="images timed at batch 1 (speed only)")
    p.add_argument("--accuracy-only", action="store_true",
                   help="no timing: read everything at each engine's own batch size (RapidOCR's default 6, "
                        "Tesseract 1, ours 64); for accuracy rows run beside another job, merged later")
    p.add_argument("--include-json", nargs="*", default=[],
                   help="rows of an earlier run (its --json-out) to add to the table, e.g. the slow "
                        "Tesseract/RapidOCR rows on the same images; they keep their own speeds")
    p.add_argument("--markdown-out")
    p.add_argument("--json-out")
    args = p.parse_args(argv)

    default_dir = Recognizer.from_pretrained().model_dir
    builders = {
        "default": lambda: OnnxEngine(default_dir),
        "default-int8": lambda: OnnxEngine(default_dir, "model.int8.onnx"),
        "keras": lambda: KerasEngine(default_dir),
        "tesseract": TesseractEngine,
        "rapidocr": RapidOCREngine,
        **{name: (lambda name=name: PaddleRecEngine(name)) for name in PEERS},
    }
    names = list(args.engines)
    for spec in args.model:
        name, _, rest = spec.partition("=")
        d, _, f = rest.partition(":")
        builders[name] = (lambda d=d, f=f: OnnxEngine(d, f or None))
        names.append(name)

    datasets = {}
    if args.synthetic_words:
        datasets[f"synthetic words, clean, held-out fonts ({args.synthetic_words})"] = synthetic_set(
            "synthetic-words", args.synthetic_words)
    if args.synthetic_clean:
        datasets[f"synthetic clean, held-out fonts ({args.synthetic_clean})"] = synthetic_set(
            "synthetic-clean", args.synthetic_clean)
    if args.synthetic:
        datasets[f"synthetic degraded, held-out fonts ({args.synthetic})"] = synthetic_set("synthetic", args.synthetic)
    if args.curved:
        datasets[f"synthetic curved words, held-out fonts ({args.curved})"] = synthetic_set(
            "synthetic-curved", args.curved)
    per_source = {}
    real = []
    from training.data import REAL_HOLDOUT_LIST, REAL_VAL_LIST

    if args.real_holdout:
        real.append(("real test", listed_sets(REAL_HOLDOUT_LIST)))
    if args.real_val:
        real.append(("real validation", listed_sets(REAL_VAL_LIST)))
    for label, parts in real:
        imgs = [im for v in parts.values() for im in v[0]]
        txt = [t for v in parts.values() for t in v[1]]
        dname = f"{label} ({len(imgs)})"
        datasets[dname] = (imgs, txt)
        offset = 0
        for src, (im, t) in parts.items():  # per-source rows reuse the predictions of the whole set
            per_source[dname] = per_source.get(dname, []) + [(f"{label}: {src} ({len(t)})", offset, offset + len(t))]
            offset += len(t)
    for f in args.folder:
        imgs, txt = folder_set(Path(f))
        datasets[f"{Path(f).name} ({len(imgs)})"] = (imgs, txt)

    rows = []
    for name in names:
        try:
            engine = builders[name]()
        except Exception as exc:  # noqa: BLE001 - a missing engine is reported, not fatal
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        for dname, (images, refs) in datasets.items():
            if args.accuracy_only:
                if hasattr(engine, "read_parallel"):
                    preds = engine.read_parallel(images)
                else:
                    preds = engine.read(images, getattr(engine, "native_batch", 64))
                wps64 = wps1 = None
            else:
                preds, wps64 = timed(engine, images, 64)
                wps1 = timed(engine, images, 1, args.batch1_images)[1] if getattr(engine, "batches", True) else wps64
            for sub, a, b in [(dname, 0, len(refs))] + per_source.get(dname, []):
                m = compute_metrics(preds[a:b], refs[a:b])
                rows.append({"engine": name, "data": sub, "word_accuracy": m.word_accuracy,
                             "word_accuracy_ci": m.word_accuracy_ci, "word_accuracy_std": m.word_accuracy_std,
                             "cer": m.cer, "cer_std": m.cer_std,
                             "words_per_s_batch1": wps1, "words_per_s_batch64": wps64})
                print(json.dumps(rows[-1]), flush=True)

    for f in args.include_json:
        rows += [r for r in json.loads(Path(f).read_text()) if r["engine"] not in names]
    table = markdown_table(rows)
    print("\n" + table)
    if args.markdown_out:
        Path(args.markdown_out).write_text(table + "\n", encoding="utf-8")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

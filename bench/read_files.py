"""Words per second reading PNG files, next to the network alone, in one run.

    python bench/read_files.py [--num 2000] [--model DIR] [--batch-size 64] [--workers 0 2 4]
    python bench/read_files.py --data real-holdout    # photographed crops (training.sources)

Writes ``--num`` word crops as PNG files to a temporary folder (words rendered with Pillow in
the fonts found on the machine, at several sizes; the bundled examples when no font is
found), or reads the image files of ``--data``, then prints:

* network only: ``Recognizer.predict_probs`` on the preprocessed images, in batches (what the
  model costs, the ceiling for reading files);
* end to end from the files: ``Recognizer(paths, num_workers=N)`` (decode, preprocess, model,
  decoding, boxes), for each ``--workers`` value; 0 is everything in the calling thread;
* the same with ``recheck=0`` (no second look at unsure crops), and the share of crops that
  the default ``recheck`` reads a second time.

Each row is the median of ``--rounds`` runs, the rows timed in turns so a shared machine's
slow spells hit every row alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
             "/usr/share/fonts/truetype/freefont")
WORDS = ("Library EXIT 2025 iPhone Coffee $12.99 Station garden window thunder Morning market "
         "kitchen orange Friday yellow silver bottle planet cable HOUSE Zebra open closed PUSH pull "
         "Street Avenue 42 1999 parking hotel Pharmacy BAKERY sale 50% taxi Bus stop").split()


def write_crops(folder: Path, num: int, seed: int = 0) -> list[Path]:
    """``num`` PNG word crops in ``folder``: rendered words, or the examples cycled."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = sorted(str(p) for d in FONT_DIRS if os.path.isdir(d) for p in Path(d).glob("*.ttf"))
    rng = random.Random(seed)
    paths = []
    examples = sorted((ROOT / "examples").glob("*.png"))
    for i in range(num):
        path = folder / f"{i:05d}.png"
        if fonts:
            font = ImageFont.truetype(rng.choice(fonts), rng.choice([20, 28, 36, 48]))
            word = rng.choice(WORDS)
            l, t, r, b = font.getbbox(word)
            pad = rng.randint(2, 10)
            img = Image.new("RGB", (r - l + 2 * pad, b - t + 2 * pad), (255, 255, 255))
            ImageDraw.Draw(img).text((pad - l, pad - t), word, font=font, fill=(0, 0, 0))
            img.save(path)
        else:
            path.write_bytes(examples[i % len(examples)].read_bytes())
        paths.append(path)
    return paths


def network_only(rec, paths, batch_size: int):
    """A timer of predict_probs over the preprocessed images, batched by input width."""
    from ctc_recognizer.preprocessing import group_by_width, preprocess

    images = [preprocess(p, rec.config).image for p in paths]
    batches = [[images[i] for i in idx[j:j + batch_size]]
               for idx in group_by_width(images).values() for j in range(0, len(idx), batch_size)]

    def run() -> float:
        t = time.perf_counter()
        for batch in batches:
            rec.predict_probs(batch)
        return len(images) / (time.perf_counter() - t)
    return run


def end_to_end(rec, paths, batch_size: int, workers: int, **options):
    def run() -> float:
        t = time.perf_counter()
        rec([str(p) for p in paths], batch_size=batch_size, num_workers=workers, **options)
        return len(paths) / (time.perf_counter() - t)
    return run


def data_files(spec: str, num: int) -> list[Path]:
    """Up to ``num`` image files of a data source (``training.sources``, e.g. real-holdout)."""
    from training.evaluate import load_eval_data

    images, _, _ = load_eval_data(spec, num)
    paths = [Path(p) for p in images if isinstance(p, (str, os.PathLike))]
    if not paths:
        raise SystemExit(f"--data {spec}: no image files (a rendered source has none: leave --data out)")
    return paths


def second_look_share(rec, paths, batch_size: int) -> float:
    """The share of ``paths`` that the recognizer's default ``recheck`` reads a second time
    (network rows run beyond those of a ``recheck=0`` call)."""
    real_run, rows = rec.session.run, [0]

    class Counting:
        def run(self, names, feeds):
            rows[0] += len(next(iter(feeds.values())))
            return real_run(names, feeds)

    session, rec.session = rec.session, Counting()
    try:
        rec([str(p) for p in paths], batch_size=batch_size, num_workers=0, recheck=0)
        once = rows[0]
        rec([str(p) for p in paths], batch_size=batch_size, num_workers=0)
    finally:
        rec.session = session
    return (rows[0] - 2 * once) / len(paths)


def main(argv=None) -> None:
    from ctc_recognizer import Recognizer
    from ctc_recognizer.prefetch import default_workers

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num", type=int, default=2000, help="PNG crops to write and read")
    p.add_argument("--model", default=None, help="model folder or Hub id (default: the bundled model)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, nargs="*", default=None,
                   help=f"num_workers values to time (default: 0 and {default_workers()}, the library default)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--data", default=None,
                   help="read the image files of this data source (e.g. real-holdout, folder:PATH) "
                        "instead of rendered crops (at most --num of them)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = p.parse_args(argv)
    if args.num < 1 or args.rounds < 1:
        p.error("--num and --rounds must be >= 1")
    workers = args.workers if args.workers is not None else sorted({0, default_workers()})
    rec = Recognizer.from_pretrained(args.model)
    with tempfile.TemporaryDirectory(prefix="read_files_") as tmp:
        paths = data_files(args.data, args.num) if args.data else write_crops(Path(tmp), args.num)
        rows = {"network only (predict_probs on preprocessed images)": network_only(rec, paths, args.batch_size)}
        for w in workers:
            rows[f"end to end from files, num_workers={w}"] = end_to_end(rec, paths, args.batch_size, w)
        w = workers[-1] if workers else default_workers()
        rows[f"end to end from files, num_workers={w}, recheck=0"] = end_to_end(
            rec, paths, args.batch_size, w, recheck=0)
        second = second_look_share(rec, paths, args.batch_size)
        rec([str(q) for q in paths[:args.batch_size]], num_workers=0)  # warm-up
        speeds: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.rounds):
            for name, run in rows.items():
                speeds[name].append(run())
    network = statistics.median(speeds[next(iter(rows))])
    what = f"{len(paths)} crops of {args.data}" if args.data else f"{len(paths)} PNG word crops"
    print(f"{what}, batch {args.batch_size}, {os.cpu_count()} CPUs, "
          f"median of {args.rounds} rounds; model {rec.onnx_path.parent.name}/{rec.onnx_path.name}; "
          f"recheck reads {second:.0%} of the crops a second time")
    print(f"{'':62s} {'words/s':>9s} {'of network':>11s}")
    result = []
    for name, values in speeds.items():
        wps = statistics.median(values)
        print(f"{name:62s} {wps:9.0f} {wps / network:10.0%}")
        result.append({"row": name, "words_per_second": round(wps, 1), "share_of_network": round(wps / network, 3)})
    if args.json:
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

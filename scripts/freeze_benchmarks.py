"""Render the synthetic benchmark sets ONCE into versioned folders under bench/sets/, so that
editing the generator or a training effect never moves a test number.

    python scripts/freeze_benchmarks.py --font-dirs /path/usr/share/fonts:/path/usr/share/texmf/fonts/opentype
    python scripts/freeze_benchmarks.py --font-dirs ... --sets curved   # one set (bench/sets/curved-v1)

The code is :func:`training.frozen.freeze`. Each set ``bench/sets/<kind>-<version>/`` holds lossless PNGs at the renders' natural size
(grayscale where the render is gray, which reads back to the same RGB array), ``labels.tsv``
and ``manifest.json`` (how it was made, each file's sha256 and a total hash; tests check it).
Every PNG is read back and compared with the render before anything is written. A set that
exists is never overwritten: freeze a new version, point ``training.frozen.FROZEN_SETS`` at
it and pin its total hash (printed) in ``training.frozen.FROZEN_TOTALS``. The test fonts must be those of the benchmark machine (the 16 held-out families of the
Debian packages in scripts/install_system_deps.sh): ``--font-dirs`` (or
``$CTC_RECOGNIZER_FONT_DIRS``) can point at them unpacked from the .deb files
(``apt-get download ...; dpkg-deb -x``) without installing them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.frozen import FREEZE_KINDS, FrozenSetError, freeze  # noqa: E402 (after the path)

DEFAULT_SETS = ("synthetic-words", "synthetic-clean", "synthetic")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), choices=sorted(FREEZE_KINDS))
    p.add_argument("--version", default="v1")
    p.add_argument("--num", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2024, help="the seed bench/compare.py rendered these sets with")
    p.add_argument("--font-dirs", help="font folders (os.pathsep-separated) instead of the system's")
    p.add_argument("--out", default=str(ROOT / "bench" / "sets"))
    args = p.parse_args(argv)
    if args.font_dirs:
        os.environ["CTC_RECOGNIZER_FONT_DIRS"] = args.font_dirs
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from ctc_recognizer.config import RecognizerConfig
    vocab = RecognizerConfig.load(ROOT / "ctc_recognizer" / "models" / "default").vocab  # the bundled model's
    for kind in args.sets:
        try:
            target = freeze(kind, args.version, args.num, args.seed, Path(args.out), vocab)
        except FrozenSetError as exc:
            raise SystemExit(str(exc)) from None
        size = sum(f.stat().st_size for f in target.iterdir())
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: {args.num} words, "
              f"{size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

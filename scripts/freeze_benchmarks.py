"""Render the synthetic benchmark sets ONCE into versioned folders under bench/sets/, so that
editing the generator or a training effect never moves a test number.

    python scripts/freeze_benchmarks.py --font-dirs /path/usr/share/fonts:/path/usr/share/texmf/fonts/opentype
    python scripts/freeze_benchmarks.py --font-dirs ... --sets curved   # one set (bench/sets/curved-v1)

Each set ``bench/sets/<kind>-<version>/`` holds lossless PNGs at the renders' natural size
(grayscale where the render is gray, which reads back to the same RGB array), ``labels.tsv``
and ``manifest.json`` (how it was made, each file's sha256 and a total hash; tests check it).
Every PNG is read back and compared with the render before anything is written. A set that
exists is never overwritten: freeze a new version and point ``training.frozen.FROZEN_SETS`` at
it. The test fonts must be those of the benchmark machine (the 16 held-out families of the
Debian packages in scripts/install_system_deps.sh): ``--font-dirs`` (or
``$CTC_RECOGNIZER_FONT_DIRS``) can point at them unpacked from the .deb files
(``apt-get download ...; dpkg-deb -x``) without installing them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: set kind -> rendered source spec; the seed and count bench/compare.py has always used.
KINDS = {"synthetic-words": "synthetic-words:test", "synthetic-clean": "synthetic-clean:test",
         "synthetic": "synthetic:test", "curved": "synthetic-curved:test"}
DEFAULT_SETS = ("synthetic-words", "synthetic-clean", "synthetic")


def freeze(kind: str, version: str, num: int, seed: int, out_root: Path, vocab: str) -> Path:
    import cv2
    import numpy as np

    from ctc_recognizer.preprocessing import read_image, to_rgb_uint8
    from training import sources
    from training.frozen import MANIFEST, file_sha256, total_hash, verify
    from training.synth import discover_fonts, font_key, generator_source_hash

    name = f"{kind}-{version}"
    target = out_root / name
    if target.exists():
        raise SystemExit(f"{target} exists: frozen sets never change; freeze a new --version instead")
    spec = KINDS[kind]
    samples = sources.load(spec, sources.LoadOptions(split="test", num=num, seed=seed, vocab=vocab, frozen=False))
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_root))
    try:
        lines, files = [], {}
        for i in range(len(samples)):
            img, text = samples.load(i), samples.texts[i]
            if "\t" in text or "\n" in text:
                raise SystemExit(f"sample {i}: label {text!r} cannot be written to labels.tsv")
            gray = bool((img[..., 0] == img[..., 1]).all() and (img[..., 0] == img[..., 2]).all())
            pixels = img[..., 0] if gray else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
            ok, png = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])
            if not ok:
                raise SystemExit(f"sample {i}: PNG encoding failed")
            fname = f"{i:05d}.png"
            (tmp / fname).write_bytes(png.tobytes())
            back = to_rgb_uint8(read_image(tmp / fname))
            if back.shape != img.shape or not np.array_equal(back, img):
                raise SystemExit(f"sample {i}: the PNG does not read back to the rendered pixels")
            lines.append(f"{fname}\t{text}\n")
        (tmp / "labels.tsv").write_text("".join(lines), encoding="utf-8")
        for p in sorted(tmp.iterdir()):
            files[p.name] = file_sha256(p)
        split_fonts = discover_fonts()["test"]
        manifest = {
            "name": name, "data_name": f"{kind}-test", "spec": spec, "split": "test", "seed": seed,
            "count": len(samples), "vocab": vocab,
            "made_by": "scripts/freeze_benchmarks.py",
            "generator_source_sha1": generator_source_hash(),
            "fonts": sorted({font_key(f.path) for f in split_fonts}),
            "font_families": sorted({f.family for f in split_fonts}),
            "files": files, "total_sha256": total_hash(files),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        verify(tmp)
        os.replace(tmp, target)  # the whole set appears at once
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), choices=sorted(KINDS))
    p.add_argument("--version", default="v1")
    p.add_argument("--num", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2024, help="the seed bench/compare.py rendered these sets with")
    p.add_argument("--font-dirs", help="font folders (os.pathsep-separated) instead of the system's")
    p.add_argument("--out", default=str(ROOT / "bench" / "sets"))
    args = p.parse_args(argv)
    if args.font_dirs:
        os.environ["CTC_RECOGNIZER_FONT_DIRS"] = args.font_dirs
    from ctc_recognizer.config import RecognizerConfig

    vocab = RecognizerConfig.load(ROOT / "ctc_recognizer" / "models" / "default").vocab  # the bundled model's
    for kind in args.sets:
        target = freeze(kind, args.version, args.num, args.seed, Path(args.out), vocab)
        size = sum(f.stat().st_size for f in target.iterdir())
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: {args.num} words, "
              f"{size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

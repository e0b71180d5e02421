"""Frozen benchmark sets: synthetic test sets rendered ONCE into versioned folders under
``bench/sets/<name>/`` (lossless PNGs at their natural size, ``labels.tsv`` and a
``manifest.json`` with each file's sha256 and a total hash), so that editing the generator
or a training effect never moves a test number. :func:`freeze` (``scripts/freeze_benchmarks.py``)
writes them; evaluation and the bench scripts read the ``test`` split of a rendered source
(``synthetic-words:test``...) from the set :data:`FROZEN_SETS` names, or any set as
``frozen:NAME``. Each committed set's total hash is pinned here (:data:`FROZEN_TOTALS`), so a
set regenerated in place (files and manifest rewritten together) is refused too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ctc_recognizer.charset import Charset
from ctc_recognizer.evaluation import read_labels

from .data import FileSampleSet

logger = logging.getLogger(__name__)

FROZEN_ROOT = Path(__file__).resolve().parents[1] / "bench" / "sets"
#: rendered source -> the frozen set its test split reads (bump the version to refreeze).
FROZEN_SETS = {"synthetic-words": "synthetic-words-v1", "synthetic-clean": "synthetic-clean-v1",
               "synthetic": "synthetic-v1", "synthetic-curved": "curved-v1"}
#: frozen set -> its manifest's total sha256, pinned when the set was committed: a set whose
#: manifest says otherwise was changed or refrozen in place. A new version is added here.
FROZEN_TOTALS = {
    "synthetic-words-v1": "54b61d4698475a2b72c073252c129b49635dbd9a6cac0cf72adcbf88764a0237",
    "synthetic-clean-v1": "85a58c6becec53a88e601a6569d894cb160f7a4e4927100da7b6b624e5ca15fb",
    "synthetic-v1": "133d1752a192f89b04240d92036b0ceded8a56926c23fdf879e26291602da37c",
    "curved-v1": "21028244f4364e88d62149feda3fca2a9bc99215ba4afdf1c749ffc63770a3e3",
}
#: freeze() kind -> the rendered source spec whose test split it renders.
FREEZE_KINDS = {"synthetic-words": "synthetic-words:test", "synthetic-clean": "synthetic-clean:test",
                "synthetic": "synthetic:test", "curved": "synthetic-curved:test"}
MANIFEST = "manifest.json"


class FrozenSetError(ValueError):
    """A frozen set that is missing or does not match its manifest."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def total_hash(files: dict[str, str]) -> str:
    """One hash over every (file name, sha256) pair, in name order."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\t{files[name]}\n".encode())
    return h.hexdigest()


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise FrozenSetError(f"frozen set {folder.name!r}: no {MANIFEST} in {folder} "
                             "(make it with scripts/freeze_benchmarks.py)")
    return json.loads(path.read_text(encoding="utf-8"))


def verify(folder: str | Path) -> dict:
    """Check every file of a frozen set against its manifest, and the manifest's total against
    the one pinned in :data:`FROZEN_TOTALS` for a set of that name; returns the manifest, or
    raises FrozenSetError naming the first file that is missing, extra or changed."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    files = manifest.get("files") or {}
    present = {p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST}
    if present - set(files):
        raise FrozenSetError(f"frozen set {folder.name!r}: files not in its manifest: {sorted(present - set(files))[:5]}")
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise FrozenSetError(f"frozen set {folder.name!r}: {name} is missing")
        if file_sha256(path) != digest:
            raise FrozenSetError(f"frozen set {folder.name!r}: {name} does not match its manifest hash "
                                 "(frozen sets never change: restore it, or freeze a new version)")
    if total_hash(files) != manifest.get("total_sha256"):
        raise FrozenSetError(f"frozen set {folder.name!r}: the manifest's total hash does not match its files")
    pinned = FROZEN_TOTALS.get(folder.name)
    if pinned is not None and manifest["total_sha256"] != pinned:
        raise FrozenSetError(f"frozen set {folder.name!r}: its files are not the ones frozen (total hash "
                             f"{manifest['total_sha256'][:12]}..., pinned {pinned[:12]}... in training.frozen."
                             "FROZEN_TOTALS): it was changed or refrozen in place; restore it, or freeze a new version")
    return manifest


def read_frozen_set(name: str, root: str | Path | None = None) -> FileSampleSet:
    """The frozen set ``name`` (verified against its manifest) as file samples."""
    folder = Path(root or FROZEN_ROOT) / name
    if not folder.is_dir():
        known = sorted(p.name for p in Path(root or FROZEN_ROOT).glob("*") if (p / MANIFEST).is_file())
        raise FrozenSetError(f"no frozen set {name!r} (known: {', '.join(known) or 'none'})")
    manifest = verify(folder)
    paths, texts = read_labels(folder)
    return FileSampleSet(paths, texts, name=manifest.get("data_name", name))


def load_frozen(kind: str, n: int | None = None, vocab: str | None = None) -> FileSampleSet:
    """The frozen test set of rendered source ``kind``: its first ``n`` words (all of them if
    it has fewer, with a warning), rendered with the seed its manifest records; a ``vocab``
    that lacks characters of the labels is warned about."""
    if kind not in FROZEN_SETS:
        raise FrozenSetError(f"{kind!r} has no frozen test set (frozen: {', '.join(FROZEN_SETS)})")
    samples = read_frozen_set(FROZEN_SETS[kind])
    if n and n > len(samples):
        logger.warning("%s:test is the frozen set %s of %d words; %d asked for", kind, FROZEN_SETS[kind],
                       len(samples), n)
    if n and n < len(samples):
        samples = FileSampleSet(samples.paths[:n], samples.texts[:n], samples.name)
    if vocab:
        missing = sorted({c for t in samples.texts for c in Charset(vocab).unknown_characters(t)})
        if missing:
            logger.warning("%s:test: labels use %d character(s) outside the model's vocabulary: %r", kind,
                           len(missing), "".join(missing))
    return samples


def freeze(kind: str, version: str, num: int, seed: int, out_root: str | Path, vocab: str) -> Path:
    """Render ``num`` words of ``kind``'s test split (:data:`FREEZE_KINDS`) with ``seed`` into the
    new set ``<out_root>/<kind>-<version>``: lossless PNGs at the renders' natural size (grayscale
    where the render is gray, which reads back to the same RGB array), ``labels.tsv`` and the
    manifest. Every PNG is read back and compared with its render, and the set is verified,
    before it appears (at once, by a rename). A set that exists is never overwritten."""
    import cv2
    import numpy as np

    from ctc_recognizer.preprocessing import read_image, to_rgb_uint8

    from . import sources
    from .synth import discover_fonts, font_key, generator_source_hash

    if kind not in FREEZE_KINDS:
        raise FrozenSetError(f"no frozen set kind {kind!r} (kinds: {', '.join(FREEZE_KINDS)})")
    name = f"{kind}-{version}"
    out_root = Path(out_root)
    target = out_root / name
    if target.exists():
        raise FrozenSetError(f"{target} exists: frozen sets never change; freeze a new version instead")
    spec = FREEZE_KINDS[kind]
    samples = sources.load(spec, sources.LoadOptions(split="test", num=num, seed=seed, vocab=vocab, frozen=False))
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_root))
    try:
        lines, files = [], {}
        for i in range(len(samples)):
            img, text = samples.load(i), samples.texts[i]
            if "\t" in text or "\n" in text:
                raise FrozenSetError(f"sample {i}: label {text!r} cannot be written to labels.tsv")
            gray = bool((img[..., 0] == img[..., 1]).all() and (img[..., 0] == img[..., 2]).all())
            pixels = img[..., 0] if gray else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
            ok, png = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])
            if not ok:
                raise FrozenSetError(f"sample {i}: PNG encoding failed")
            fname = f"{i:05d}.png"
            (tmp / fname).write_bytes(png.tobytes())
            back = to_rgb_uint8(read_image(tmp / fname))
            if back.shape != img.shape or not np.array_equal(back, img):
                raise FrozenSetError(f"sample {i}: the PNG does not read back to the rendered pixels")
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
    logger.info("froze %s: %d words; pin it: FROZEN_TOTALS[%r] = %r", target, len(samples), name,
                manifest["total_sha256"])
    return target

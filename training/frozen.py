"""Frozen benchmark sets: synthetic test sets rendered ONCE into versioned folders under
``bench/sets/<name>/`` (lossless PNGs at their natural size, ``labels.tsv`` and a
``manifest.json`` with each file's sha256 and a total hash), so that editing the generator
or a training effect never moves a test number. ``scripts/freeze_benchmarks.py`` writes them;
evaluation and the bench scripts read the ``test`` split of a rendered source
(``synthetic-words:test``...) from the set :data:`FROZEN_SETS` names, or any set as
``frozen:NAME``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from ctc_recognizer.charset import Charset
from ctc_recognizer.evaluation import read_labels

from .data import FileSampleSet

logger = logging.getLogger(__name__)

FROZEN_ROOT = Path(__file__).resolve().parents[1] / "bench" / "sets"
#: rendered source -> the frozen set its test split reads (bump the version to refreeze).
FROZEN_SETS = {"synthetic-words": "synthetic-words-v1", "synthetic-clean": "synthetic-clean-v1",
               "synthetic": "synthetic-v1", "synthetic-curved": "curved-v1"}
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
    """Check every file of a frozen set against its manifest; returns the manifest, or raises
    FrozenSetError naming the first file that is missing, extra or changed."""
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


def load_frozen(kind: str, n: int | None = None, seed: int | None = None, vocab: str | None = None) -> FileSampleSet:
    """The frozen test set of rendered source ``kind``: its first ``n`` words (all of them if
    it has fewer, with a warning). ``seed`` is ignored (the set was rendered with its own,
    recorded in the manifest); a ``vocab`` that lacks characters of the labels is warned about."""
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

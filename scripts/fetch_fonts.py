#!/usr/bin/env python3
"""Fetch more OFL font families for the synthetic training data from the npm registry.

Debian packages ~180 Latin text families (``scripts/install_system_deps.sh``); Google Fonts has
many more, including old-style Garamond / Caslon / Goudy italics, condensed sans and legible
handwriting that Debian lacks. The Fontsource project republishes them on npm as
``@fontsource/<name>`` (SIL Open Font License); this script downloads pinned versions of the
packages listed in ``scripts/fontsource_packages.txt`` (checking the registry's sha512), takes
the Latin subset at regular and bold, upright and italic, converts the WOFF files to TrueType
with fontTools and installs them under ``~/.local/share/fonts/fontsource`` (one of
``training.synth.FONT_DIRS``).

Families are split into train / val / test by a hash of their name (``training.synth``). A
family that would land in the *test* split is skipped, so the held-out-font test set stays the
same fonts with or without these downloads; train and validation families are installed.

Only training needs these fonts; the tests and the demo do not. Needs HTTPS access to
registry.npmjs.org (or a mirror: ``NPM_REGISTRY=...``).

    python scripts/fetch_fonts.py            # fetch and install (idempotent)
    python scripts/fetch_fonts.py --list     # show each family and its split, fetch nothing
    python scripts/fetch_fonts.py --batches 1   # only batch 1: the fonts stage 11 was trained on

A package none of whose files could be used (all in the test split, or no usable Latin text
font) is recorded in ``<dest>/.skipped`` and not downloaded again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ctc_recognizer.files import atomic_write_text  # noqa: E402
from training.synth import font_family, split_of  # noqa: E402

#: The list of packages: "<package> <version> <family>" lines, grouped in batches.
PACKAGE_LIST = Path(__file__).with_name("fontsource_packages.txt")


def _read_list(path: Path = PACKAGE_LIST) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    """(package -> pinned version, package -> Google Fonts family name, package -> batch) from
    the list file; a ``## batch N ...`` line starts batch N (1 before any such line)."""
    versions, families, batches = {}, {}, {}
    batch = 1
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if line.startswith("## batch"):
            try:
                batch = int(line.split()[2])
            except (IndexError, ValueError):
                raise ValueError(f"{path}:{n}: expected '## batch <number> ...', got {line!r}") from None
            continue
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 2:
            raise ValueError(f"{path}:{n}: expected '<package> <version> [family]', got {line!r}")
        versions[parts[0]] = parts[1]
        families[parts[0]] = parts[2] if len(parts) > 2 else parts[0].replace("-", " ")
        batches[parts[0]] = batch
    return versions, families, batches


#: npm package name (under @fontsource) -> pinned version; its Google Fonts family name.
PACKAGES, FAMILIES, BATCHES = _read_list()
WEIGHTS = ("400", "700")
STYLES = ("normal", "italic")
DEST = Path(os.path.expanduser("~/.local/share/fonts/fontsource"))
REGISTRY = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")


def _get(url: str, timeout: float = 60.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - fixed https registry
        return r.read()


def _tarball(name: str, version: str) -> bytes:
    """The package tarball, checked against the registry's sha512 integrity string."""
    meta = json.loads(_get(f"{REGISTRY}/@fontsource/{name}/{version}"))
    data = _get(meta["dist"]["tarball"])
    integrity = meta["dist"].get("integrity", "")
    if integrity.startswith("sha512-"):
        if base64.b64encode(hashlib.sha512(data).digest()).decode() != integrity[7:]:
            raise RuntimeError(f"@fontsource/{name}@{version}: tarball does not match its sha512")
    return data


def _install(name: str, version: str, dest: Path) -> list[str]:
    """Install one package's Latin regular/bold x upright/italic files; returns lines to print."""
    from fontTools.ttLib import TTFont

    tar = tarfile.open(fileobj=io.BytesIO(_tarball(name, version)), mode="r:gz")
    members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
    wanted = [f"{name}-latin-{w}-{s}.woff" for w in WEIGHTS for s in STYLES]
    if not any(n in members for n in wanted):  # single-weight families (e.g. only 300 or 900)
        wanted = sorted(n for n in members if n.startswith(f"{name}-latin-") and n.endswith(".woff")
                        and "-ext-" not in n)[:2]
    out = []
    for fname in wanted:
        if fname not in members:
            continue
        font = TTFont(io.BytesIO(tar.extractfile(members[fname]).read()))
        font.flavor = None
        target = dest / fname.replace(".woff", ".ttf")
        with tempfile.NamedTemporaryFile(dir=dest, suffix=".tmp", delete=False) as tmp:
            try:
                font.save(tmp.name)
            except Exception:
                os.unlink(tmp.name)
                raise
        family = font_family(tmp.name)
        if family is None:
            os.unlink(tmp.name)
            out.append(f"  {fname}: not usable (missing alphanumerics or caps-only), skipped")
        elif split_of(family) == "test":
            os.unlink(tmp.name)
            out.append(f"  {fname}: family {family!r} hashes to the test split, skipped")
        else:
            os.replace(tmp.name, target)
            out.append(f"  {target.name}: {family} ({split_of(family)})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="print the packages and their splits, fetch nothing")
    ap.add_argument("--dest", type=Path, default=DEST, help=f"install folder (default {DEST})")
    ap.add_argument("--jobs", type=int, default=4, help="packages fetched at once (default 4)")
    ap.add_argument("--batches", type=int, default=None, metavar="N",
                    help="only batches 1..N of the list (e.g. 1 = the fonts stage 11 was trained on); default all")
    args = ap.parse_args(argv)
    selected = {n: v for n, v in PACKAGES.items() if args.batches is None or BATCHES.get(n, 1) <= args.batches}
    if args.list:
        for name, version in selected.items():
            family = FAMILIES.get(name, name.replace("-", " "))  # the installed file's own name decides
            print(f"@fontsource/{name}@{version}: {family}: {split_of(family)}")
        return 0
    args.dest.mkdir(parents=True, exist_ok=True)
    skip_file = args.dest / ".skipped"
    skipped = set(skip_file.read_text().split()) if skip_file.exists() else set()

    def installed(name: str) -> bool:
        return any(args.dest.glob(f"{name}-latin-*.ttf"))

    todo = [(n, v) for n, v in selected.items() if f"{n}@{v}" not in skipped and not installed(n)]
    failed, newly_skipped = [], []

    def one(item: tuple[str, str]) -> tuple[str, str, list[str] | Exception]:
        name, version = item
        try:
            return name, version, _install(name, version, args.dest)
        except Exception as e:  # noqa: BLE001 - report and go on with the other families
            return name, version, e

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for name, version, result in pool.map(one, todo):
            if isinstance(result, Exception):
                failed.append(name)
                print(f"@fontsource/{name}@{version}: failed: {result}", file=sys.stderr)
                continue
            print(f"@fontsource/{name}@{version}")
            print("\n".join(result))
            if not installed(name):
                newly_skipped.append(f"{name}@{version}")
    if newly_skipped:
        atomic_write_text(skip_file, "\n".join(sorted(skipped | set(newly_skipped))) + "\n")
    n = len(list(args.dest.glob("*.ttf")))
    print(f"{n} font files in {args.dest}" + (f"; {len(failed)} packages failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fetch more OFL font families for the synthetic training data from the npm registry.

Debian packages ~180 Latin text families (``scripts/install_system_deps.sh``); Google Fonts has
many more, including old-style Garamond / Caslon / Goudy italics, condensed sans and legible
handwriting that Debian lacks. The Fontsource project republishes them on npm as
``@fontsource/<name>`` (SIL Open Font License); this script downloads pinned versions of the
packages listed below (checking the registry's sha512), takes the Latin subset at regular and
bold, upright and italic, converts the WOFF files to TrueType with fontTools and installs them
under ``~/.local/share/fonts/fontsource`` (one of ``training.synth.FONT_DIRS``).

Families are split into train / val / test by a hash of their name (``training.synth``). A
family that would land in the *test* split is skipped, so the held-out-font test set stays the
same fonts with or without these downloads; train and validation families are installed.

Only training needs these fonts; the tests and the demo do not. Needs HTTPS access to
registry.npmjs.org (or a mirror: ``NPM_REGISTRY=...``).

    python scripts/fetch_fonts.py            # fetch and install (idempotent)
    python scripts/fetch_fonts.py --list     # show each family and its split, fetch nothing
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.synth import _font_family, _split_of  # noqa: E402

#: npm package name (under @fontsource) -> pinned version.
PACKAGES = {
    # old-style and transitional serifs with true italics
    "cormorant": "5.3.0", "crimson-text": "5.3.0", "crimson-pro": "5.3.0", "sorts-mill-goudy": "5.3.0",
    "libre-baskerville": "5.3.0", "libre-caslon-text": "5.3.0", "lora": "5.3.0", "merriweather": "5.3.0",
    "spectral": "5.3.0", "im-fell-dw-pica": "5.3.0", "im-fell-double-pica": "5.3.0",
    "im-fell-french-canon": "5.3.0", "rosarivo": "5.3.0", "bodoni-moda": "5.3.0", "fraunces": "5.3.0",
    "newsreader": "5.3.0", "literata": "5.3.0", "gelasio": "5.3.0", "libre-bodoni": "5.3.0",
    "petrona": "5.3.0", "brygada-1918": "5.3.0", "castoro": "5.3.0", "gentium-book-plus": "5.3.0",
    "noticia-text": "5.3.0", "neuton": "5.3.0", "amiri": "5.3.0", "radley": "5.3.0", "judson": "5.3.0",
    "ledger": "5.2.8", "lustria": "5.3.0", "cambo": "5.3.0", "fenix": "5.3.0", "prata": "5.3.0",
    "eczar": "5.3.0", "domine": "5.3.0", "trirong": "5.3.0", "taviraj": "5.3.0", "martel": "5.3.0",
    "pridi": "5.3.0", "halant": "5.3.0", "tienne": "5.2.8", "adamina": "5.2.7", "alice": "5.3.0",
    "buenard": "5.2.11", "esteban": "5.3.0", "habibi": "5.2.8", "lusitana": "5.3.0", "mate": "5.3.0",
    "ovo": "5.3.0", "sumana": "5.3.0", "junge": "5.3.0", "gilda-display": "5.3.0", "poly": "5.3.0",
    "playfair-display": "5.3.0", "gentium-plus": "5.3.0", "rufina": "5.3.0", "average": "5.3.0",
    "artifika": "4.5.11", "inknut-antiqua": "5.3.0", "cormorant-infant": "5.3.0",
    # slab serifs
    "zilla-slab": "5.3.0", "bitter": "5.3.0", "arvo": "5.3.0", "bree-serif": "5.3.0", "aleo": "5.3.0",
    "podkova": "5.3.0", "kreon": "5.3.0", "enriqueta": "5.3.0", "josefin-slab": "5.3.0", "rokkitt": "5.3.0",
    # sans, condensed and display
    "alegreya-sans": "5.3.0", "merriweather-sans": "5.3.0", "josefin-sans": "5.3.0", "raleway": "5.3.0",
    "poppins": "5.3.0", "oswald": "5.3.0", "barlow": "5.3.0", "barlow-condensed": "5.3.0",
    "fira-sans-condensed": "5.3.0", "archivo-narrow": "5.3.0", "work-sans": "5.3.0", "rubik": "5.3.0",
    "ibm-plex-sans-condensed": "5.3.0", "ubuntu-condensed": "5.3.0", "asap-condensed": "5.3.0",
    "saira-condensed": "5.3.0", "encode-sans-condensed": "5.3.0", "sofia-sans-condensed": "5.3.0",
    "pathway-gothic-one": "5.3.0", "big-shoulders-text": "5.3.0", "montserrat": "5.3.0", "nunito": "5.3.0",
    "varela-round": "5.3.0", "comfortaa": "5.3.0", "righteous": "5.3.0", "fredoka": "5.3.0",
    "abril-fatface": "5.3.0", "alfa-slab-one": "5.3.0", "ultra": "5.3.0", "vidaloka": "5.3.0",
    # monospace and typewriter
    "space-mono": "5.3.0", "courier-prime": "5.3.0", "special-elite": "5.3.0", "cutive-mono": "5.3.0",
    "ibm-plex-serif": "5.3.0",
    # legible handwriting
    "caveat": "5.3.0", "kalam": "5.3.0", "patrick-hand": "5.3.0", "indie-flower": "5.3.0",
    "shadows-into-light": "5.3.0", "architects-daughter": "5.3.0", "handlee": "5.3.0",
    "gochi-hand": "5.3.0", "short-stack": "5.3.0", "delius": "5.3.0", "neucha": "5.3.0",
    "coming-soon": "5.3.0", "sriracha": "5.3.0", "mali": "5.3.0", "shantell-sans": "5.3.0",
    "permanent-marker": "5.3.0", "courgette": "5.3.0", "merienda": "5.3.0", "satisfy": "5.3.0",
    "pacifico": "5.3.0", "chewy": "5.3.0", "playpen-sans": "5.3.0", "charm": "5.2.7",
    "gloria-hallelujah": "5.3.0", "crafty-girls": "5.3.0", "cookie": "5.3.0",
}
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
        family = _font_family(tmp.name)
        if family is None:
            os.unlink(tmp.name)
            out.append(f"  {fname}: not usable (missing alphanumerics or caps-only), skipped")
        elif _split_of(family) == "test":
            os.unlink(tmp.name)
            out.append(f"  {fname}: family {family!r} hashes to the test split, skipped")
        else:
            os.replace(tmp.name, target)
            out.append(f"  {target.name}: {family} ({_split_of(family)})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="print the packages and their splits, fetch nothing")
    ap.add_argument("--dest", type=Path, default=DEST, help=f"install folder (default {DEST})")
    args = ap.parse_args(argv)
    if args.list:
        for name, version in PACKAGES.items():
            family = name.replace("-", " ")  # the installed file's own family name decides
            print(f"@fontsource/{name}@{version}: {_split_of(family)} (by package name)")
        return 0
    args.dest.mkdir(parents=True, exist_ok=True)
    failed = []
    for name, version in PACKAGES.items():
        if list(args.dest.glob(f"{name}-latin-*.ttf")):
            continue  # already installed
        try:
            lines = _install(name, version, args.dest)
        except Exception as e:  # noqa: BLE001 - report and go on with the other families
            failed.append(name)
            print(f"@fontsource/{name}@{version}: failed: {e}", file=sys.stderr)
            continue
        print(f"@fontsource/{name}@{version}")
        print("\n".join(lines))
    n = len(list(args.dest.glob("*.ttf")))
    print(f"{n} font files in {args.dest}" + (f"; {len(failed)} packages failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

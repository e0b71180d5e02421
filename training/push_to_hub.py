"""Upload an exported model to the Hugging Face Hub.

    python -m training.push_to_hub runs/exp1 org/name [--private]

Uploads ``model.onnx``, ``model.keras``, ``config.json``, the training config and a model
card (``README.md`` with ``library_name``, ``pipeline_tag: image-to-text`` and ``model-index``
metrics). Token: ``--token``, ``HF_TOKEN`` or ``hf auth login``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .hub import push


def resolve_export_dir(path: str) -> Path:
    p = Path(path)
    for candidate in (p / "model", p):
        if (candidate / "config.json").is_file():
            return candidate
    raise SystemExit(f"no exported model (config.json) in {p} or {p / 'model'}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_or_model_dir", help="a training run folder or an exported model folder")
    parser.add_argument("repo_id", help="Hub repo id, e.g. org/name")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--token", default=None)
    args = parser.parse_args(argv)
    url = push(resolve_export_dir(args.run_or_model_dir), args.repo_id, private=args.private, token=args.token)
    print(url)


if __name__ == "__main__":
    main()

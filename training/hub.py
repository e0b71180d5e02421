"""Model cards and Hugging Face Hub upload: the one place for both.

    python -m training.hub runs/exp1 org/name [--private]      (or: python -m training.push_to_hub ...)

Uploads ``model.onnx``, ``model.keras``, ``config.json``, the training config and a model
card (``README.md`` with ``library_name``, ``pipeline_tag: image-to-text`` and ``model-index``
metrics) of a run or model folder. Token: ``--token``, ``HF_TOKEN`` or ``hf auth login``.

Upload goes through ``huggingface_hub.HfApi`` (token from ``HF_TOKEN`` or ``hf auth login``):
``create_repo`` then one ``upload_folder`` commit with the model files, the model card
(``README.md``) and the training config.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ctc_recognizer.config import RecognizerConfig

UPLOAD_FILES = ("config.json", "model.onnx", "model.int8.onnx", "model.keras", "train_config.json", "README.md")
METRIC_NAMES = {"word_accuracy": "Word accuracy", "word_accuracy_ci": "Word accuracy (case-insensitive)",
                "cer": "CER", "wer": "WER",
                "word_accuracy_std": "Word accuracy (standard protocol: lower case, letters and digits)",
                "cer_std": "CER (standard protocol)"}


def model_index(name: str, metrics: dict[str, dict[str, Any]]) -> list[dict]:
    """``model-index`` metadata: one result per evaluation set."""
    results = []
    for dataset, values in metrics.items():
        if not isinstance(values, dict):
            continue
        results.append({
            "task": {"type": "image-to-text", "name": "Text recognition"},
            "dataset": {"name": dataset, "type": dataset},
            "metrics": [{"type": k, "name": METRIC_NAMES[k], "value": round(float(v), 4)}
                        for k, v in values.items() if k in METRIC_NAMES],
        })
    return [{"name": name, "results": results}]


def run_metrics(config: RecognizerConfig) -> dict:
    """Per-set metrics a training run stored in the config: its validation sets, then its test
    sets (``--holdout-list``) named ``<set> (test)``; a flat ``{set: metrics}`` is taken as is."""
    metrics = config.metrics or {}
    if "validation" not in metrics and "test" not in metrics:
        return metrics
    return {**metrics.get("validation", {}), **{f"{k} (test)": v for k, v in metrics.get("test", {}).items()}}


def card_metadata(config: RecognizerConfig, name: str, license: str = "apache-2.0",
                  metrics: dict | None = None) -> dict:
    flat = metrics if metrics is not None else run_metrics(config)
    return {
        "library_name": "ctc-recognizer",
        "pipeline_tag": "image-to-text",
        "license": license,
        "language": ["en"],
        "tags": ["ocr", "text-recognition", "scene-text-recognition", "ctc", "crnn", "onnx", "keras"],
        "model-index": model_index(name, flat or {}),
    }


def build_model_card(config: RecognizerConfig, name: str, body: str | None = None,
                     train_config: dict | None = None, license: str = "apache-2.0",
                     metrics: dict | None = None) -> str:
    """A ``README.md`` with YAML metadata (``library_name``, ``pipeline_tag``, ``model-index``)."""
    meta = yaml.safe_dump(card_metadata(config, name, license, metrics), sort_keys=False, allow_unicode=True)
    if body is None:
        flat = metrics if metrics is not None else run_metrics(config)
        rows = "\n".join(
            f"| {ds} | {v.get('count', '')} | {v['word_accuracy']:.4f} | {v['word_accuracy_ci']:.4f} | "
            f"{v.get('word_accuracy_std', float('nan')):.4f} | {v['cer']:.4f} | {v['wer']:.4f} |"
            for ds, v in (flat or {}).items() if isinstance(v, dict) and "cer" in v)
        long_crops = (f"; crops wider than {config.long_crop_threshold} px at height {config.height} are "
                      f"read at {config.long_crop_width} px" if config.long_crop_width else "")
        body = f"""# {name}

A CNN + BiLSTM + CTC word recognizer (architecture `{config.architecture}`, input
{config.height}x{config.width}x{config.channels}, resize `{config.resize_mode}`{long_crops}, {len(config.vocab)}-character
vocabulary) trained with [ctc-recognizer](https://github.com/ctc-recognizer/ctc-recognizer).

```python
from ctc_recognizer import Recognizer
rec = Recognizer.from_pretrained("{name}")
print(rec("word.png").text)
```

## Evaluation (validation and test sets of the training run)

| data | images | word acc. | word acc. (no case) | word acc. (std. protocol) | CER | WER |
|---|---|---|---|---|---|---|
{rows}

## Intended use and limits
Cropped single words or short lines of printed Latin text. Not for handwriting or full pages
(run a text detector first).
"""
    if train_config:
        body += "\n## Training configuration\n\n```json\n" + json.dumps(train_config, indent=2) + "\n```\n"
    return f"---\n{meta}---\n\n{body}"


def push(model_dir: str | os.PathLike, repo_id: str, private: bool = False, token: str | None = None,
         commit_message: str = "Upload ctc-recognizer model", card_body: str | None = None) -> str:
    """Upload an exported model folder; returns the commit URL."""
    from huggingface_hub import HfApi

    model_dir = Path(model_dir)
    config = RecognizerConfig.load(model_dir)
    if not (model_dir / config.onnx_file).is_file():
        raise FileNotFoundError(f"no {config.onnx_file} in {model_dir}; export the model first")
    train_cfg_path = model_dir / "train_config.json"
    train_cfg = json.loads(train_cfg_path.read_text()) if train_cfg_path.is_file() else None
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    with tempfile.TemporaryDirectory() as staging:
        staging = Path(staging)
        for name in UPLOAD_FILES:
            if (model_dir / name).is_file():
                shutil.copyfile(model_dir / name, staging / name)
        if not (staging / "README.md").is_file() or card_body is not None:
            (staging / "README.md").write_text(
                build_model_card(config, repo_id, card_body, train_cfg), encoding="utf-8")
        info = api.upload_folder(repo_id=repo_id, folder_path=str(staging), repo_type="model",
                                 commit_message=commit_message)
    return str(getattr(info, "commit_url", info))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_or_model_dir", help="a training run folder or an exported model folder")
    parser.add_argument("repo_id", help="Hub repo id, e.g. org/name")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--token", default=None)
    args = parser.parse_args(argv)
    from .locate import export_dir

    try:
        folder = export_dir(args.run_or_model_dir)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None
    print(push(folder, args.repo_id, private=args.private, token=args.token))


if __name__ == "__main__":
    main()

"""Generate the bundled model's card from a template and the measured numbers.

    python scripts/make_model_card.py [--results bench/results.json] [--speed bench/speed.json]

Reads the accuracy rows of ``bench/compare.py --json-out``, the speed rows of
``bench/speed.py --json-out`` and the bundled ``config.json``, fills
``scripts/model_card_template.md`` (``huggingface_hub.ModelCard.from_template``; the YAML
front matter and its ``model-index`` come from ``ModelCardData``) and writes the same card to
``model_card.md`` and ``ctc_recognizer/models/default/README.md`` (the model's Hub README).
``--check`` only verifies that both files are what the inputs generate (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ctc_recognizer.config import RecognizerConfig  # noqa: E402
from ctc_recognizer.files import atomic_write_text  # noqa: E402

TEMPLATE = ROOT / "scripts" / "model_card_template.md"
MODEL_DIR = ROOT / "ctc_recognizer" / "models" / "default"
OUTPUTS = (ROOT / "model_card.md", MODEL_DIR / "README.md")
REPO_ID = "ctc-recognizer/crnn-word"

#: engine in bench JSON -> column title, in table order (absent engines are left out)
ENGINES = {
    "default": "**ours** (fp32)",
    "default-int8": "ours int8",
    "ppocrv6-tiny": "PP-OCRv6-tiny",
    "ppocrv6-small": "PP-OCRv6-small",
    "ppocrv4": "PP-OCRv4",
    "rapidocr": "PP-OCRv4 (RapidOCR)",
    "tesseract": "Tesseract 5",
}

METRICS_INTRO = (
    "Word accuracy under the standard scene-text protocol (both sides lower-cased, letters and "
    "digits only), every engine on the same crops in one run of `bench/compare.py`. *Real test* is "
    "`training/splits/real_holdout.txt`, never trained on; *real validation* is "
    "`training/splits/real_val.txt` (the bundled model trained on those crops: its number there is "
    "optimistic); *synthetic* sets are frozen renders in font families never trained on "
    "(`bench/sets/`), the words set being a regression guard. Exact (case-sensitive) accuracy and "
    "CER are in `bench/results.md`."
)


def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def metrics_table(rows: list[dict]) -> tuple[str, list[str]]:
    engines = [e for e in ENGINES if any(r["engine"] == e for r in rows)]
    datasets = list(dict.fromkeys(r["data"] for r in rows))
    value = {(r["engine"], r["data"]): r["word_accuracy_std"] for r in rows}
    lines = ["| data | " + " | ".join(ENGINES[e] for e in engines) + " |",
             "|---|" + "---|" * len(engines)]
    for d in datasets:
        lines.append(f"| {d} | " + " | ".join(pct(value.get((e, d))) for e in engines) + " |")
    return "\n".join(lines), engines


def speed_table(speed: dict) -> tuple[str, str]:
    rows = speed["rows"]
    tiny = next((r["words_per_s_batch64"] for r in rows if r["model"].startswith("ppocrv6-tiny")), None)
    lines = ["| network | words/s, batch 64 | ms, batch 1 | x PP-OCRv6-tiny |", "|---|---|---|---|"]
    for r in rows:
        rel = f"{r['words_per_s_batch64'] / tiny:.2f}" if tiny else "–"
        lines.append(f"| {r['model']} | {r['words_per_s_batch64']:,.0f} | {r['ms_batch1']:.2f} | {rel} |")
    intro = (f"The network alone on ONNX Runtime (inputs already preprocessed), {speed.get('cores', '?')} CPU "
             f"cores ({speed.get('cpu') or 'CPU'}), models timed in turns by `bench/speed.py`; only numbers "
             "from the same run compare.")
    return "\n".join(lines), intro


def int8_gap(rows: list[dict], min_count: int = 100) -> str:
    """The largest gap, in points of standard-protocol accuracy, between the int8 and fp32
    models on the same set of at least ``min_count`` crops (the count closing a set's name, as
    in "real test (745)"; on a set of 19 one crop is 5 points), "–" without int8 rows."""
    def count(name: str) -> int:
        tail = name.rsplit("(", 1)[-1].rstrip(")")
        return int(tail) if tail.isdigit() else 0

    fp32 = {r["data"]: r["word_accuracy_std"] for r in rows if r["engine"] == "default"}
    gaps = [abs(r["word_accuracy_std"] - fp32[r["data"]]) for r in rows
            if r["engine"] == "default-int8" and r["data"] in fp32 and count(r["data"]) >= min_count]
    return f"{100 * max(gaps):.1f}" if gaps else "–"


def count_params(model_path: Path) -> str:
    try:
        import numpy as np
        import onnx
        from onnx import numpy_helper
    except ImportError:  # the card still renders without the training extras
        return "about 0.57M"
    m = onnx.load(str(model_path))
    return f"{sum(int(np.prod(numpy_helper.to_array(t).shape)) for t in m.graph.initializer):,}"


def render(results_path: Path, speed_path: Path) -> str:
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    rows = json.loads(results_path.read_text(encoding="utf-8"))
    speed = json.loads(speed_path.read_text(encoding="utf-8"))
    cfg = RecognizerConfig.from_dict(json.loads((MODEL_DIR / "config.json").read_text(encoding="utf-8")))
    ours = [r for r in rows if r["engine"] == "default"]
    if not ours:
        raise SystemExit(f"{results_path}: no rows for the 'default' engine")
    evals = [EvalResult(task_type="image-to-text", task_name="Text recognition", dataset_type=r["data"],
                        dataset_name=r["data"], metric_type=k, metric_name=name, metric_value=round(r[k], 4))
             for r in ours for k, name in (("word_accuracy_std", "Word accuracy (standard protocol)"),
                                          ("word_accuracy", "Word accuracy"), ("cer", "CER"))]
    data = ModelCardData(library_name="ctc-recognizer", pipeline_tag="image-to-text", license="other",
                         license_name="research-use-training-data", license_link="LICENSE", language=["en"],
                         tags=["ocr", "text-recognition", "scene-text-recognition", "ctc", "crnn", "onnx"],
                         model_name=REPO_ID, eval_results=evals)
    mtable, _ = metrics_table(rows)
    stable, sintro = speed_table(speed)
    card = ModelCard.from_template(
        data, template_path=str(TEMPLATE),
        model_name="ctc-recognizer default model: `crnn` word recognizer", repo_id=REPO_ID,
        num_chars=len(cfg.vocab), num_classes=len(cfg.vocab) + 1, arch=cfg.architecture,
        params=count_params(MODEL_DIR / "model.onnx"), height=cfg.height, width=cfg.width,
        int8_gap=int8_gap(rows), long_width=cfg.long_crop_width or cfg.width, long_threshold=cfg.long_crop_threshold or cfg.width,
        metrics_intro=METRICS_INTRO, metrics_table=mtable, speed_intro=sintro, speed_table=stable,
        reproduce="\n".join([
            "python scripts/fetch_peer_models.py            # the comparison engines, once",
            "python bench/compare.py --synthetic 0 --synthetic-clean 0 --real-holdout --real-val --accuracy-only \\",
            "    --engines default default-int8 ppocrv6-tiny ppocrv6-small ppocrv4 tesseract \\",
            "    --json-out bench/results.json --markdown-out bench/results.md",
            "python bench/speed.py --archs seed crnn --model default=ctc_recognizer/models/default \\",
            "    default-int8=ctc_recognizer/models/default:model.int8.onnx --peers ppocrv6-tiny ppocrv6-small \\",
            "    --rounds 5 --json-out bench/speed.json",
            "python scripts/make_model_card.py              # this card",
        ]),
        reproduce_note=("Training: `training/configs/default.yaml` is the recipe of the bundled model's last "
                        "step (it starts from the previous default; the earlier steps are override files in "
                        "`experiments/configs/`, one line each in `experiments/LOG.md`). The bundled weights "
                        "are the average of two runs: `python -m training.average RUN_A RUN_B --output "
                        "runs/avg/model --quantize`, then `python scripts/bundle_default.py runs/avg --int8`."),
    )
    return str(card).rstrip() + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    p.add_argument("--speed", type=Path, default=ROOT / "bench" / "speed.json")
    p.add_argument("--check", action="store_true", help="exit 1 if the cards differ from what the inputs generate")
    args = p.parse_args(argv)
    for f in (args.results, args.speed):
        if not f.is_file():
            raise SystemExit(f"{f} not found: run bench/compare.py / bench/speed.py with --json-out first")
    text = render(args.results, args.speed)
    if args.check:
        stale = [str(o.relative_to(ROOT)) for o in OUTPUTS if not o.is_file() or o.read_text(encoding="utf-8") != text]
        if stale:
            raise SystemExit(f"out of date: {', '.join(stale)} (run python scripts/make_model_card.py)")
        print("model cards are up to date")
        return
    for out in OUTPUTS:
        atomic_write_text(out, text)
    print(f"wrote {', '.join(str(o.relative_to(ROOT)) for o in OUTPUTS)} ({len(text):,} bytes)")


if __name__ == "__main__":
    main()

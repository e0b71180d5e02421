"""The model card is generated (scripts/make_model_card.py) from the bench outputs, and the
user documents stay short."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_model_card_is_what_the_bench_outputs_generate():
    out = subprocess.run([sys.executable, "scripts/make_model_card.py", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    card = (ROOT / "model_card.md").read_text(encoding="utf-8")
    assert card == (ROOT / "ctc_recognizer" / "models" / "default" / "README.md").read_text(encoding="utf-8")
    assert "| real test (745) |" in card and "PP-OCRv6-tiny" in card and "## Reproduce" in card


def test_user_documents_stay_short():
    assert len((ROOT / "README.md").read_bytes()) <= 12_000
    assert len((ROOT / "model_card.md").read_bytes()) <= 15_000

"""ONNX Runtime speed of architectures, side by side in one run (random weights: speed does
not depend on them), plus any exported model folders.

    python bench/speed.py [--archs crnn seed] [--model default=ctc_recognizer/models/default ...]

Prints words/s at batch 64 and the median latency at batch 1 (model call only, inputs already
preprocessed), and each entry's speed relative to ``seed`` and to PP-OCRv6-tiny at 48x160
(``--peers``, the speed target's yardstick). A model that reads long crops
wider (``long_crop_width`` in its config) gets a second row at that width. The models are timed in turns
(``--rounds`` rounds of ``--seconds`` each per model) and the median round is reported, so a
shared machine's slow spells hit every model alike instead of whichever ran during them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def measure(session, input_name, shape, seconds: float = 3.0) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    x64 = (rng.random((64, *shape)) * 255).astype(np.float32)
    for _ in range(3):
        session.run(None, {input_name: x64})
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        session.run(None, {input_name: x64})
        n += 1
    wps = 64 * n / (time.perf_counter() - t)
    x1 = x64[:1]
    lat = []
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        s = time.perf_counter()
        session.run(None, {input_name: x1})
        lat.append(time.perf_counter() - s)
    return wps, float(np.median(lat) * 1000)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archs", nargs="*", default=["seed", "crnn"])
    p.add_argument("--model", nargs="*", default=[], help="NAME=DIR[:FILE] exported model folders")
    p.add_argument("--peers", nargs="*", default=["ppocrv6-tiny"],
                   help="PaddleOCR recognizers at their base input size (bench/peers.py; fetched once by "
                        "scripts/fetch_peer_models.py), e.g. ppocrv6-tiny (48x160) ppocrv6-small ppocrv4 (48x320)")
    p.add_argument("--vocab", default="default")
    p.add_argument("--seconds", type=float, default=1.0, help="per model and round, each of batch 64 and batch 1")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json-out", help="also write the rows as JSON (scripts/make_model_card.py reads it)")
    args = p.parse_args(argv)
    import onnxruntime as ort

    sessions = []
    if args.archs:
        from ctc_recognizer.charset import Charset
        from ctc_recognizer.config import RecognizerConfig
        from training.export import keras_to_onnx_bytes
        from training.model import build_model
        from training.options import resolve_vocab

        vocab = resolve_vocab(args.vocab)
        for arch in args.archs:
            cfg = RecognizerConfig(vocab=vocab, architecture=arch)
            model = build_model(arch, Charset(vocab).num_classes)
            onnx_bytes, _ = keras_to_onnx_bytes(model, cfg)
            sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
            sessions.append((f"{arch} (arch, {model.count_params():,} params)", sess, "input", (32, 128, 3)))
    for spec in args.model:
        name, _, rest = spec.partition("=")
        folder, _, file = rest.partition(":")
        from ctc_recognizer import Recognizer

        rec = Recognizer.from_pretrained(folder, model_file=file or None)
        c = rec.config
        sessions.append((name, rec.session, c.input_name, (c.height, c.width, c.channels)))
        if c.long_crop_width:  # the same graph on long crops (read wider, see RecognizerConfig)
            sessions.append((f"{name} (long crops, {c.long_crop_width} px)", rec.session, c.input_name,
                             (c.height, c.long_crop_width, c.channels)))
    for name in args.peers:
        sys.path.insert(0, str(ROOT / "bench"))
        from peers import BASE_WIDTH, HEIGHT, PaddleRecEngine

        try:
            eng = PaddleRecEngine(name)
        except (RuntimeError, ValueError) as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        sessions.append((f"{name} (48x{BASE_WIDTH[name]})", eng.session, eng.input_name,
                         (3, HEIGHT, BASE_WIDTH[name])))
    rounds = [[measure(sess, input_name, shape, args.seconds) for _, sess, input_name, shape in sessions]
              for _ in range(args.rounds)]  # rounds[k][j]: model j in round k
    results = [(name, float(np.median([r[j][0] for r in rounds])), float(np.median([r[j][1] for r in rounds])))
               for j, (name, *_) in enumerate(sessions)]
    seed = next((r[1] for r in results if r[0].startswith("seed")), None)
    tiny = next((r[1] for r in results if r[0].startswith("ppocrv6-tiny")), None)
    print(f"{'model':42s} {'words/s b64':>12s} {'ms b1 (median)':>15s} {'x seed':>7s} {'x v6-tiny':>9s}")
    for name, wps, ms in results:
        rel = f"{wps / seed:.2f}" if seed else "-"
        rel_tiny = f"{wps / tiny:.2f}" if tiny else "-"
        print(f"{name:42s} {wps:12.0f} {ms:15.2f} {rel:>7s} {rel_tiny:>9s}")
    if args.json_out:
        import json
        import platform

        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
        rows = [{"model": n, "words_per_s_batch64": w, "ms_batch1": m} for n, w, m in results]
        Path(args.json_out).write_text(json.dumps({"cpu": cpu, "cores": os.cpu_count(), "rows": rows}, indent=2) + "\n",
                                       encoding="utf-8")


if __name__ == "__main__":
    main()

"""Training speed on this CPU: float32 against mixed bfloat16 (Keras ``mixed_bfloat16``: bf16
compute, float32 weights), side by side in one run. Each policy runs in its own process (the
policy is global), on the same random batches, with the project's CTC loss; prints ms per
step and the speed-up.

    python bench/train_speed.py [--arch crnn] [--batch-size 64] [--steps 30] [--threads 2]

A CPU without AVX512-BF16 / AMX runs bf16 through conversions and is usually slower.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(policy: str, arch: str, batch_size: int, steps: int, threads: int) -> dict:
    """ms per training step (after 5 warm-up steps) under one Keras dtype policy."""
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import keras
    import numpy as np
    import tensorflow as tf

    from ctc_recognizer.charset import DEFAULT_VOCAB, Charset
    from training.losses import CTCLoss
    from training.model import build_model

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    keras.mixed_precision.set_global_policy(policy)
    charset = Charset(DEFAULT_VOCAB)
    model = build_model(arch, charset.num_classes)
    ctc = CTCLoss(charset.blank_index)

    def loss(y_true, y_pred):  # the CTC forward pass in float32 whatever the compute dtype
        return ctc(y_true, tf.cast(y_pred, tf.float32))

    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=loss, jit_compile=False)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch_size, 32, 128, 3)).astype(np.float32)
    y = rng.integers(0, charset.num_classes - 1, (batch_size, 8)).astype(np.int32)
    for _ in range(5):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return {"policy": policy, "ms_per_step": 1000 * (time.perf_counter() - start) / steps}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="crnn")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--policy", help=argparse.SUPPRESS)  # one measurement, in a child process
    args = ap.parse_args(argv)
    if args.policy:
        print(json.dumps(measure(args.policy, args.arch, args.batch_size, args.steps, args.threads)))
        return 0
    rows = []
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    for policy in ("float32", "mixed_bfloat16"):
        out = subprocess.run([sys.executable, __file__, "--policy", policy, "--arch", args.arch, "--batch-size",
                              str(args.batch_size), "--steps", str(args.steps), "--threads", str(args.threads)],
                             capture_output=True, text=True, env=env)
        if out.returncode != 0:
            raise SystemExit(f"{policy}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]["ms_per_step"]
    print(f"{args.arch}, batch {args.batch_size}, {args.threads} threads, {args.steps} steps")
    for r in rows:
        print(f"  {r['policy']:>15}: {r['ms_per_step']:7.1f} ms/step  ({base / r['ms_per_step']:.2f}x float32)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

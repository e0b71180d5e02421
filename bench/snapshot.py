"""What the bundled model reads on the frozen benchmark sets (and, where ../shared/data is
present, on the real test crops), pinned in ``bench/expected_predictions.json``, so that a
refactor that should change nothing is shown to change nothing.

    python bench/snapshot.py            # compare with the pinned predictions (exit 1 on a change)
    python bench/snapshot.py --write    # pin the current predictions (after a deliberate change)

Prints, per set, how many predictions changed and the first few, with their labels.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXPECTED = ROOT / "bench" / "expected_predictions.json"


def current(include_real: bool = True) -> dict[str, dict]:
    """``{set: {"files": [...], "texts": [...]}}`` read by the bundled fp32 model."""
    from ctc_recognizer import Recognizer
    from training.data import SHARED_DATA, real_holdout_sets, sample_key
    from training.frozen import FROZEN_SETS, read_frozen_set

    rec = Recognizer.from_pretrained()
    out = {}
    for name in FROZEN_SETS.values():
        s = read_frozen_set(name)
        out[name] = {"files": [p.name for p in s.paths], "texts": [p.text for p in rec(list(map(str, s.paths)))]}
    if include_real and (SHARED_DATA / "iiit5k-train" / "labels.tsv").is_file():
        for src, s in real_holdout_sets(skip_missing=True).items():
            paths = [Path(sample_key(s, i)) for i in range(len(s))]
            out[f"real-test/{src}"] = {"files": [p.name for p in paths],
                                       "texts": [p.text for p in rec([str(p) for p in paths])]}
    return out


def digest(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def compare(expected: dict, now: dict) -> list[str]:
    """Lines describing every difference (empty: the same predictions)."""
    problems = []
    for name, want in expected.items():
        got = now.get(name)
        if got is None:
            continue  # e.g. the real crops are not on this machine
        if got["files"] != want["files"]:
            problems.append(f"{name}: the set's files differ from the pinned ones")
            continue
        changed = [(f, a, b) for f, a, b in zip(want["files"], want["texts"], got["texts"]) if a != b]
        if changed:
            problems.append(f"{name}: {len(changed)} of {len(want['texts'])} predictions changed, e.g. "
                            + "; ".join(f"{f}: {a!r} -> {b!r}" for f, a, b in changed[:5]))
    return problems


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", action="store_true", help="pin the current predictions")
    args = p.parse_args(argv)
    now = current()
    if args.write:
        from ctc_recognizer.files import atomic_write_text

        atomic_write_text(EXPECTED, json.dumps(now, ensure_ascii=False, indent=0) + "\n")
        print(f"pinned {sum(len(v['texts']) for v in now.values())} predictions in {len(now)} sets: {EXPECTED}")
        return
    problems = compare(json.loads(EXPECTED.read_text(encoding="utf-8")), now)
    for name, v in now.items():
        print(f"{name}: {len(v['texts'])} predictions, sha256 {digest(v['texts'])[:16]}")
    if problems:
        print("\n".join(problems))
        raise SystemExit(1)
    print("same predictions as pinned")


if __name__ == "__main__":
    main()

"""The bundled model reads the frozen benchmark sets (and the real test crops, where
../shared/data is present) exactly as pinned in bench/expected_predictions.json: a refactor
that should change nothing changes no prediction. After a deliberate change of the model or
its pre-/post-processing, re-pin with `python bench/snapshot.py --write`."""

import json

from tests.helpers import load_script



def load_snapshot_module():
    return load_script("bench/snapshot.py", "bench_snapshot")


def test_bundled_model_reads_the_pinned_predictions():
    snap = load_snapshot_module()
    expected = json.loads(snap.EXPECTED.read_text(encoding="utf-8"))
    now = snap.current()
    assert set(now) <= set(expected) and {"synthetic-words-v1", "curved-v1"} <= set(now)
    assert snap.compare(expected, now) == []


def test_a_changed_prediction_is_reported():
    snap = load_snapshot_module()
    want = {"s": {"files": ["a.png", "b.png"], "texts": ["cat", "dog"]}}
    assert snap.compare(want, {"s": {"files": ["a.png", "b.png"], "texts": ["cat", "dog"]}}) == []
    (msg,) = snap.compare(want, {"s": {"files": ["a.png", "b.png"], "texts": ["cat", "d0g"]}})
    assert "1 of 2 predictions changed" in msg and "'dog' -> 'd0g'" in msg
    (msg,) = snap.compare(want, {"s": {"files": ["a.png", "c.png"], "texts": ["cat", "dog"]}})
    assert "files differ" in msg

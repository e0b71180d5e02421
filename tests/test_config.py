import json
import os

import pytest

from ctc_recognizer.config import RecognizerConfig, atomic_write_bytes
from ctc_recognizer.errors import ConfigError, ModelNotFoundError


def test_roundtrip_and_derived_fields(tmp_path):
    cfg = RecognizerConfig(vocab="abcé€", architecture="crnn", metrics={"x": {"cer": 0.1}})
    path = cfg.save(tmp_path)
    raw = path.read_text(encoding="utf-8")
    assert '"abcé€"' in raw  # ensure_ascii=False
    data = json.loads(raw)
    assert data["blank_index"] == 5 and data["num_classes"] == 6 and data["format_version"] == 1
    again = RecognizerConfig.load(tmp_path)
    assert again == cfg


@pytest.mark.parametrize("patch, message", [
    ({"vocab": None}, "vocab"),
    ({"height": 0}, "height"),
    ({"channels": 2}, "channels"),
    ({"resize_mode": "crop"}, "resize_mode"),
    ({"blank_index": 3}, "blank_index"),
    ({"format_version": 99}, "format_version"),
])
def test_inconsistent_config_is_named(tmp_path, patch, message):
    data = RecognizerConfig(vocab="abcde").to_dict()
    data.update(patch)
    if patch.get("vocab", 1) is None:
        del data["vocab"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message):
        RecognizerConfig.load(tmp_path)


def test_missing_and_malformed(tmp_path):
    with pytest.raises(ModelNotFoundError, match="config.json"):
        RecognizerConfig.load(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        RecognizerConfig.load(tmp_path)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no temp file left


def test_atomic_write_gives_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "config.json", b"{}")
    finally:
        os.umask(old)
    assert (tmp_path / "config.json").stat().st_mode & 0o777 == 0o644

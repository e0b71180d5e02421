import json

import pytest

from ctc_recognizer.config import RecognizerConfig
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


@pytest.mark.parametrize("patch, message", [
    ({"long_crop_width": 192}, "set together"),
    ({"long_crop_width": 100, "long_crop_threshold": 200}, r"long_crop_width' must be an integer > width \(128\), got 100"),
    ({"long_crop_width": 128, "long_crop_threshold": 200}, r"long_crop_width' must be an integer > width \(128\), got 128"),
    ({"long_crop_width": 192, "long_crop_threshold": 100}, r"long_crop_threshold' must be an integer >= width"),
    ({"long_crop_width": 192, "long_crop_threshold": "200"}, "long_crop_threshold"),
    ({"long_crop_width": 192, "long_crop_threshold": 200, "time_columns": 32}, "time_columns is 32"),
])
def test_inconsistent_long_crop_settings_are_named(tmp_path, patch, message):
    data = RecognizerConfig(vocab="abcde").to_dict()
    data.update(patch)
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message):
        RecognizerConfig.load(tmp_path)


def test_long_crops_get_the_long_input_width(tmp_path):
    cfg = RecognizerConfig(vocab="abc", long_crop_width=192, long_crop_threshold=200)
    assert cfg.input_width(32, 200) == 128  # exactly at the threshold: the normal width
    assert cfg.input_width(32, 201) == 192
    assert cfg.input_width(64, 402) == 192  # 201 px wide at the model height
    assert cfg.input_width(64, 400) == 128
    assert RecognizerConfig(vocab="abc").input_width(32, 5000) == 128  # unset: never wider
    cfg.save(tmp_path)
    assert RecognizerConfig.load(tmp_path) == cfg

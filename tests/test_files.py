"""ctc_recognizer.files: atomic writes of models, configs and tables."""

import os

import pytest

from ctc_recognizer.files import atomic_write_bytes, atomic_write_text, default_file_mode


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


def test_atomic_write_text_is_utf8(tmp_path):
    atomic_write_text(tmp_path / "vocab.txt", "abcé€\n")
    assert (tmp_path / "vocab.txt").read_bytes() == "abcé€\n".encode("utf-8")

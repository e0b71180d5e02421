"""Loading a model folder someone else wrote: external data outside the folder, model and config
files symlinked out of it, oversized files. The crafted models are built on the spot with the
``onnx`` package (a training dependency; the library itself does not need it): only the tests
that build one skip without it."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from ctc_recognizer import ModelLoadError, Recognizer
from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.errors import ConfigError
from ctc_recognizer.safety import (MAX_CONFIG_BYTES, MAX_MODEL_BYTES_ENV, UnsafeModelError, check_onnx_model,
                                   external_data_locations, scan_external_data)
from ctc_recognizer.recognizer import DEFAULT_MODEL_DIR
from tests.conftest import FIXTURE_MODEL_DIR, render_word


def _crafted_model(folder: Path, location: str, data: bytes | None = None) -> Path:
    """A model folder whose graph (``y = x + w``, x of shape (1, 32, 8, 3)) keeps the
    initializer ``w`` as external data at ``location``; writes ``data`` there if given."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    w = numpy_helper.from_array(np.ones((1, 1, 1, 3), np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "12")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 32, 8, 3])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 32, 8, 3])
    graph = helper.make_graph([helper.make_node("Add", ["input", "w"], ["output"])], "g", [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    if data is not None:
        (folder / location).write_bytes(data)
    # a config that loads (the graph's output classes are not checked: its last axis is 3)
    RecognizerConfig(vocab="ab", height=32, width=8, long_crop_width=None).save(folder)
    return folder


@pytest.fixture()
def secret(tmp_path) -> Path:
    path = tmp_path / "secret.bin"
    path.write_bytes(np.full(3, 7, np.float32).tobytes())
    return path


def test_external_data_inside_the_folder_loads(tmp_path):
    folder = _crafted_model(tmp_path / "ok", "w.bin", np.full(3, 2, np.float32).tobytes())
    assert external_data_locations((folder / "model.onnx").read_bytes()) == [("w", "w.bin")]
    rec = Recognizer.from_pretrained(folder)
    out = rec.session.run(None, {"input": np.zeros((1, 32, 8, 3), np.float32)})[0]
    assert float(out.max()) == 2.0


@pytest.mark.parametrize("location, message", [
    ("../secret.bin", r"location '\.\./secret\.bin' leads out of the model folder"),
    ("sub/../../secret.bin", r"location 'sub/\.\./\.\./secret\.bin' leads out of the model folder"),
    ("/etc/passwd", r"location '/etc/passwd' is an absolute path"),
    ("SECRET_ABS", r"is an absolute path"),
    ("C:\\Windows\\win.ini", r"is an absolute path"),
])
def test_external_data_outside_the_folder_is_refused(tmp_path, secret, location, message):
    location = str(secret) if location == "SECRET_ABS" else location
    folder = _crafted_model(tmp_path / "m", location)
    with pytest.raises(UnsafeModelError, match=message) as info:
        Recognizer.from_pretrained(folder)
    assert isinstance(info.value, ModelLoadError)
    assert "tensor 'w'" in str(info.value) and "ONNXRuntimeError" not in str(info.value)


def test_external_data_symlinked_out_of_the_folder_is_refused(tmp_path, secret):
    folder = _crafted_model(tmp_path / "m", "w.bin")
    os.symlink(secret, folder / "w.bin")
    with pytest.raises(UnsafeModelError, match=r"location 'w.bin' resolves outside the model folder"):
        Recognizer.from_pretrained(folder)


def test_hugging_face_cache_layout_is_not_mistaken_for_an_escape(tmp_path):
    """A cache snapshot links each file to ../../blobs/<hash>: allowed, as ONNX Runtime allows it."""
    src = _crafted_model(tmp_path / "src", "w.bin", np.full(3, 5, np.float32).tobytes())
    repo = tmp_path / "models--org--m"
    (repo / "blobs").mkdir(parents=True)
    snap = repo / "snapshots" / "abc"
    snap.mkdir(parents=True)
    for name, blob in (("model.onnx", "b1"), ("w.bin", "b2"), ("config.json", "b3")):
        shutil.copyfile(src / name, repo / "blobs" / blob)
        os.symlink(f"../../blobs/{blob}", snap / name)
    rec = Recognizer.from_pretrained(snap)
    assert float(rec.session.run(None, {"input": np.zeros((1, 32, 8, 3), np.float32)})[0].max()) == 5.0


def test_external_data_in_subgraphs_and_constants_is_found():
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    inner = helper.make_tensor("c", TensorProto.FLOAT, [1], [0.0])
    inner.ClearField("float_data")
    inner.data_location = TensorProto.EXTERNAL
    entry = inner.external_data.add()
    entry.key, entry.value = "location", "../deep.bin"
    const = helper.make_node("Constant", [], ["k"], value=inner)
    then = helper.make_graph([const], "then", [], [helper.make_tensor_value_info("k", TensorProto.FLOAT, [1])])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1])
    node = helper.make_node("If", ["cond"], ["out"], then_branch=then, else_branch=then)
    model = helper.make_model(helper.make_graph([node], "g", [cond], [out]))
    assert external_data_locations(model.SerializeToString()) == [("c", "../deep.bin"), ("c", "../deep.bin")]


def test_oversized_model_file_is_refused_before_reading(tmp_path, monkeypatch):
    folder = tmp_path / "big"
    folder.mkdir()
    shutil.copyfile(DEFAULT_MODEL_DIR / "config.json", folder / "config.json")
    with open(folder / "model.onnx", "wb") as f:  # a sparse file: big on paper, nothing written
        f.truncate(600 * 1024 * 1024)
    read = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real_read_bytes(self))
    with pytest.raises(UnsafeModelError, match=r"'model.onnx' is 629,145,600 bytes, over the 536,870,912-byte limit "
                                               r"\(set CTC_RECOGNIZER_MAX_MODEL_BYTES"):
        Recognizer.from_pretrained(folder)
    assert "model.onnx" not in read
    # the environment variable sets the limit: the real fixture model is refused under a small one
    monkeypatch.setenv(MAX_MODEL_BYTES_ENV, "1000")
    with pytest.raises(UnsafeModelError, match="over the 1,000-byte limit"):
        check_onnx_model(DEFAULT_MODEL_DIR, "model.onnx")
    monkeypatch.setenv(MAX_MODEL_BYTES_ENV, "lots")
    with pytest.raises(ValueError, match="CTC_RECOGNIZER_MAX_MODEL_BYTES must be a positive number"):
        check_onnx_model(DEFAULT_MODEL_DIR, "model.onnx")


def test_external_data_counts_towards_the_model_limit(tmp_path, monkeypatch):
    folder = _crafted_model(tmp_path / "m", "w.bin", np.full(3, 2, np.float32).tobytes())
    with open(folder / "w.bin", "r+b") as f:
        f.truncate(10_000)
    size = (folder / "model.onnx").stat().st_size
    monkeypatch.setenv(MAX_MODEL_BYTES_ENV, str(size + 10_000 - 1))  # each file fits, not both
    with pytest.raises(UnsafeModelError, match="with its external data is"):
        check_onnx_model(folder, "model.onnx")


def test_oversized_config_is_refused_before_reading(tmp_path, monkeypatch):
    folder = tmp_path / "m"
    folder.mkdir()
    data = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    data["metrics"] = {"padding": "x" * MAX_CONFIG_BYTES}
    (folder / "config.json").write_text(json.dumps(data))
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: pytest.fail(f"{self.name} was read"))
    with pytest.raises(UnsafeModelError, match=r"config 'config.json' is 1,00\d,\d+ bytes, over the 1,000,000-byte"):
        Recognizer.from_pretrained(folder)
    with pytest.raises(UnsafeModelError, match="over the 1,000,000-byte"):
        RecognizerConfig.load(folder)
    monkeypatch.undo()  # read_text back; the environment variable raises the limit
    monkeypatch.setenv("CTC_RECOGNIZER_MAX_CONFIG_BYTES", "2000000")
    assert RecognizerConfig.load(folder).metrics["padding"].startswith("x")


@pytest.mark.parametrize("name", ["../model.onnx", "/tmp/model.onnx", "a/../../m.onnx", ""])
def test_onnx_file_names_must_stay_in_the_folder(tmp_path, name):
    data = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    data["onnx_file"] = name
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="onnx_file"):
        RecognizerConfig.load(tmp_path)
    with pytest.raises(UnsafeModelError, match="ONNX file"):
        check_onnx_model(DEFAULT_MODEL_DIR, name)


def _onnxruntime_older_than(version: str) -> bool:
    import onnxruntime as ort
    from packaging.version import Version

    return Version(ort.__version__) < Version(version)


@pytest.mark.skipif(_onnxruntime_older_than("1.32"),
                    reason="ONNX Runtime validates external-data paths itself from 1.32 on; the package's own "
                           "check (tested above) covers older releases")
def test_onnx_runtime_itself_refuses_escaping_external_data(tmp_path, secret):
    """What the installed ONNX Runtime enforces on its own (cited in ctc_recognizer/safety.py):
    the package's check comes first, with a clearer message, and covers older releases."""
    import onnxruntime as ort

    for name, location in (("dotdot", "../secret.bin"), ("absolute", str(secret))):
        folder = _crafted_model(tmp_path / name, location)
        with pytest.raises(Exception, match="External data path validation failed"):
            ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------- model / config symlinks

def _fixture_copy(folder: Path) -> Path:
    """The committed tiny model (no onnx package needed), copied to ``folder``."""
    folder.mkdir(parents=True)
    for name in ("config.json", "model.onnx"):
        shutil.copyfile(FIXTURE_MODEL_DIR / name, folder / name)
    return folder


@pytest.mark.parametrize("name, what", [("model.onnx", "ONNX model"), ("config.json", "config")])
def test_model_or_config_symlinked_out_of_the_folder_is_refused(tmp_path, name, what):
    outside = _fixture_copy(tmp_path / "elsewhere")
    folder = _fixture_copy(tmp_path / "m")
    (folder / name).unlink()
    os.symlink(outside / name, folder / name)
    message = rf"{what} '{name}' is a symlink to a file outside the model folder"
    with pytest.raises(UnsafeModelError, match=message) as info:
        Recognizer.from_pretrained(folder)
    assert str(tmp_path) not in str(info.value)  # names the file, not where it points
    if name == "config.json":
        with pytest.raises(UnsafeModelError, match=message):
            RecognizerConfig.load(folder / name)
    else:
        with pytest.raises(UnsafeModelError, match=message):
            check_onnx_model(folder, name)


def test_symlinks_inside_the_folder_load(tmp_path):
    folder = _fixture_copy(tmp_path / "m")
    (folder / "v1").mkdir()
    for name in ("config.json", "model.onnx"):
        (folder / name).rename(folder / "v1" / name)
        os.symlink(f"v1/{name}", folder / name)
    assert Recognizer.from_pretrained(folder)(render_word("tree")).text == "tree"
    os.symlink(folder, tmp_path / "link")  # the folder itself a symlink: its files are inside it
    assert Recognizer.from_pretrained(tmp_path / "link")(render_word("tree")).text == "tree"


def _hub_cache(cache: Path, repo_id: str, files: dict[str, Path], sha: str = "0" * 40) -> Path:
    """A Hugging Face cache entry as huggingface_hub writes it: blobs/<hash> files,
    snapshots/<sha>/<name> -> ../../blobs/<hash> symlinks, refs/main holding the sha."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    snap = repo / "snapshots" / sha
    snap.mkdir(parents=True)
    for i, (name, src) in enumerate(files.items()):
        shutil.copyfile(src, repo / "blobs" / f"{i:040x}")
        os.symlink(f"../../blobs/{i:040x}", snap / name)
    return snap


def test_hugging_face_cache_layout_loads(tmp_path, monkeypatch):
    files = {name: FIXTURE_MODEL_DIR / name for name in ("config.json", "model.onnx")}
    snap = _hub_cache(tmp_path / "hub", "org/name", files)
    assert all((snap / name).is_symlink() for name in files)
    assert Recognizer.from_pretrained(snap)(render_word("coffee")).text == "coffee"
    # from_pretrained("org/name") itself, from the cache only (no network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rec = Recognizer.from_pretrained("org/name", cache_dir=tmp_path / "hub", local_files_only=True)
    assert rec.model_dir == snap and rec(render_word("coffee")).text == "coffee"


def test_a_snapshot_linking_into_another_repositorys_blobs_is_refused(tmp_path):
    hub = tmp_path / "hub"
    other = _hub_cache(hub, "org/other", {"model.onnx": FIXTURE_MODEL_DIR / "model.onnx"})
    snap = _hub_cache(hub, "org/name", {"config.json": FIXTURE_MODEL_DIR / "config.json"})
    os.symlink(f"../../../models--org--other/blobs/{os.readlink(other / 'model.onnx').split('/')[-1]}",
               snap / "model.onnx")
    assert (snap / "model.onnx").is_file()
    with pytest.raises(UnsafeModelError, match="ONNX model 'model.onnx' is a symlink to a file outside"):
        Recognizer.from_pretrained(snap)


# ---------------------------------------------------------------- the scan reads through mmap

def test_the_external_data_scan_maps_the_file_instead_of_reading_it(tmp_path, secret, monkeypatch):
    folder = _crafted_model(tmp_path / "m", "w.bin", np.full(3, 2, np.float32).tobytes())
    path = folder / "model.onnx"
    for model in (path, FIXTURE_MODEL_DIR / "model.onnx"):  # same result as scanning the bytes
        assert scan_external_data(model) == external_data_locations(model.read_bytes())
    assert scan_external_data(path) == [("w", "w.bin")]
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert scan_external_data(tmp_path / "empty.onnx") == []
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self.name} read into memory"))
    check_onnx_model(folder, "model.onnx")
    (folder / "w.bin").unlink()
    os.symlink(secret, folder / "w.bin")
    with pytest.raises(UnsafeModelError, match="location 'w.bin' resolves outside"):  # still finds it
        check_onnx_model(folder, "model.onnx")

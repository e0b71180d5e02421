"""Checks that make it safe to load a model folder someone else wrote (a Hub repository, a
downloaded archive): files are size-limited before they are read, ``config.json``, the ONNX file
and its external data must stay inside the model folder (a symlink pointing elsewhere is
refused; a Hugging Face cache snapshot's links into the same repository's ``blobs`` folder are
fine), and nothing in the folder is ever executed. The ONNX file is scanned through a read-only
memory map, so its weights are not copied into memory before ONNX Runtime reads them.

What the libraries already enforce (checked against the installed versions, onnxruntime 1.32
and onnx 1.23, with crafted models; see tests/test_safety.py):

* ``onnxruntime.InferenceSession(path)`` refuses an initializer whose external-data
  ``location`` is absolute ("Absolute path not allowed for external data location",
  ``ValidateExternalDataPathFromDir`` in onnxruntime/core/framework/tensorprotoutils.cc),
  contains ``..`` leading out of the model folder, or is a symlink resolving outside it
  ("External data path escapes model directory ... allowed directory: ..."). A file
  symlinked into the directory of the *resolved* model file is accepted, which is what the
  Hugging Face cache layout needs (``snapshots/<sha>/*`` -> ``blobs/*``). A model given as
  bytes may only use external data under the working directory.
* ``onnx.load`` / ``onnx.checker.check_model`` (onnx.external_data_helper, GHSA-538c-55jv-c5g9)
  refuse the same absolute, ``..`` and symlinked locations.
* Neither library loads code from a model: ONNX Runtime only runs custom operators from
  libraries registered explicitly with ``SessionOptions.register_custom_ops_library``, and this
  package never registers one (a graph that uses unknown operators fails to load).

The package's own checks below repeat the external-data rule in pure Python (no ``onnx``
dependency), because ``onnxruntime>=1.17`` is allowed and older releases did not all check, and
so that the error names the offending location as this package's :class:`UnsafeModelError`
instead of an ONNX Runtime message. Nothing here unpickles, imports or executes anything: the
config is JSON, the model is ONNX, Keras files are not read by the inference package at all.
"""

from __future__ import annotations

import logging
import mmap
import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import ModelLoadError

logger = logging.getLogger(__name__)

#: Largest ``config.json`` read (bytes); a real one is well under 10 KB.
MAX_CONFIG_BYTES = 1_000_000
#: Largest ONNX model read (bytes), counting the ``.onnx`` file and its external-data files.
MAX_MODEL_BYTES = 512 * 1024 * 1024
#: Environment variables that raise (or lower) the limits above, in bytes.
MAX_CONFIG_BYTES_ENV = "CTC_RECOGNIZER_MAX_CONFIG_BYTES"
MAX_MODEL_BYTES_ENV = "CTC_RECOGNIZER_MAX_MODEL_BYTES"


class UnsafeModelError(ModelLoadError):
    """A model folder asks for something this package will not do: read a file outside the
    folder, or read a file larger than the configured limit."""


def size_limit(env_name: str, default: int) -> int:
    """The byte limit set by environment variable ``env_name``, else ``default``."""
    raw = os.environ.get(env_name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{env_name} must be a positive number of bytes, got {raw!r}")
    return value


def check_file_size(path: str | os.PathLike, limit: int, what: str, env_name: str) -> int:
    """Raise :class:`UnsafeModelError` unless ``path`` is a regular file of at most ``limit``
    bytes; returns its size. Uses ``stat`` only: nothing is read."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeModelError(f"{what} {Path(path).name!r} is not a regular file")
    if st.st_size > limit:
        raise UnsafeModelError(
            f"{what} {Path(path).name!r} is {st.st_size:,} bytes, over the {limit:,}-byte limit "
            f"(set {env_name} to allow larger files)"
        )
    return st.st_size


def check_relative_name(name: str, what: str) -> None:
    """A file name from a model folder must be a relative path that stays inside the folder:
    not absolute (POSIX or Windows), no ``..`` component, not empty."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise UnsafeModelError(f"{what} {name!r} is not a usable file name")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith(("/", "\\")):
        raise UnsafeModelError(f"{what} {name!r} is an absolute path; only files inside the model folder are read")
    if ".." in posix.parts or ".." in windows.parts:
        raise UnsafeModelError(f"{what} {name!r} leads out of the model folder ('..')")


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def allowed_folders(model_dir: str | os.PathLike) -> list[Path]:
    """The folders whose files a model folder may use: the folder itself (resolved) and, when
    it is a Hugging Face cache snapshot (``<repo>/snapshots/<revision>``, whose files are
    symlinks to ``../../blobs/<hash>``), that same repository's ``blobs`` folder."""
    folder = Path(model_dir).resolve()
    allowed = [folder]
    if folder.parent.name == "snapshots":
        blobs = folder.parent.parent / "blobs"
        if blobs.is_dir():
            allowed.append(blobs)
    return allowed


def check_inside_model_dir(path: str | os.PathLike, model_dir: str | os.PathLike, what: str) -> Path:
    """Raise :class:`UnsafeModelError` when ``path`` (a file of the model folder ``model_dir``)
    resolves, through symlinks, to a file outside the folder (or outside its Hugging Face cache
    repository's ``blobs``, see :func:`allowed_folders`); returns the resolved path."""
    target = Path(path).resolve()
    if not _inside(target, allowed_folders(model_dir)):
        raise UnsafeModelError(f"{what} {Path(path).name!r} is a symlink to a file outside the model folder")
    return target


# ---------------------------------------------------------------- ONNX external data
# Protocol-buffer field numbers from onnx.proto (onnx 1.23); only the fields that can hold a
# TensorProto are followed, everything else (weights included) is skipped by length.
_FOLLOW = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "function": {7: "node"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {13: "entry"},
    "entry": {},
}
_TENSOR_NAME, _EXTERNAL_DATA, _ENTRY_KEY, _ENTRY_VALUE = 8, 13, 1, 2


class _NotProtobuf(Exception):
    pass


def _varint(buf: memoryview, i: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= end or shift > 63:
            raise _NotProtobuf
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _length_fields(buf: memoryview, start: int, end: int):
    """(field number, start, end) of each length-delimited field of one message."""
    i = start
    while i < end:
        key, i = _varint(buf, i, end)
        wire = key & 7
        if wire == 0:
            _, i = _varint(buf, i, end)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = _varint(buf, i, end)
            if i + n > end:
                raise _NotProtobuf
            yield key >> 3, i, i + n
            i += n
        else:
            raise _NotProtobuf
    if i != end:
        raise _NotProtobuf


def external_data_locations(data: bytes | bytearray | memoryview | mmap.mmap) -> list[tuple[str, str]]:
    """``(tensor name, location)`` of every tensor in a serialized ONNX model whose data lives
    in an external file (initializers, sparse initializers, constants in node attributes,
    subgraphs and functions). Returns what it found before any malformed part (ONNX Runtime
    reports malformed files itself). ``data`` may be any bytes-like object, a read-only
    ``mmap`` included (the view of it is released before this returns)."""
    with memoryview(data) as buf:
        found: list[tuple[str, str]] = []
        stack = [("model", 0, len(buf), "")]
        try:
            while stack:
                kind, start, end, tensor = stack.pop()
                if kind == "entry":
                    key = value = ""
                    for field, a, b in _length_fields(buf, start, end):
                        if field == _ENTRY_KEY:
                            key = bytes(buf[a:b]).decode("utf-8", "replace")
                        elif field == _ENTRY_VALUE:
                            value = bytes(buf[a:b]).decode("utf-8", "replace")
                    if key == "location":
                        found.append((tensor, value))
                    continue
                follow = _FOLLOW[kind]
                name = tensor
                children = []
                for field, a, b in _length_fields(buf, start, end):
                    if kind == "tensor" and field == _TENSOR_NAME:
                        name = bytes(buf[a:b]).decode("utf-8", "replace")
                    elif field in follow:
                        children.append((follow[field], a, b))
                stack.extend((child, a, b, name) for child, a, b in reversed(children))
        except _NotProtobuf:
            logger.debug("ONNX scan stopped at malformed data; ONNX Runtime will report it")
    return found


def scan_external_data(path: str | os.PathLike) -> list[tuple[str, str]]:
    """:func:`external_data_locations` of an ONNX file, read through a read-only memory map:
    the weights the scan skips are never copied into memory (ONNX Runtime reads the file
    itself afterwards)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:  # mmap refuses an empty file
            return external_data_locations(b"")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return external_data_locations(mapped)


def check_onnx_model(model_dir: str | os.PathLike, model_file: str) -> None:
    """Refuse, with :class:`UnsafeModelError`, an ONNX file in ``model_dir`` that is a symlink
    to a file outside the folder (a Hugging Face cache snapshot's links into the same
    repository's ``blobs`` are fine), is larger than the limit (``MAX_MODEL_BYTES``, env
    ``CTC_RECOGNIZER_MAX_MODEL_BYTES``, external data files included) or whose external data
    lies outside the folder (absolute ``location``, ``..``, or a symlink resolving elsewhere).
    The size is checked before the file is read."""
    check_relative_name(model_file, "ONNX file")
    model_dir = Path(model_dir)
    path = model_dir / model_file
    resolved = check_inside_model_dir(path, model_dir, "ONNX model")
    limit = size_limit(MAX_MODEL_BYTES_ENV, MAX_MODEL_BYTES)
    total = check_file_size(path, limit, "ONNX model", MAX_MODEL_BYTES_ENV)
    locations = scan_external_data(path)
    if not locations:
        return
    allowed = allowed_folders(model_dir)
    # ONNX Runtime looks for external data next to the model as given, or next to the resolved
    # model file (a Hugging Face cache snapshot links each file to ../../blobs/<hash>): both
    # candidates must stay in the allowed folders, and both count towards the size limit
    bases = [path.parent] if resolved.parent == path.parent.resolve() else [path.parent, resolved.parent]
    seen: set[Path] = set()
    for tensor, location in locations:
        what = f"external data of tensor {tensor!r} in {model_file!r}: location"
        check_relative_name(location, what)
        for base in bases:
            target = (base / location).resolve()
            if not _inside(target, allowed):
                raise UnsafeModelError(f"{what} {location!r} resolves outside the model folder (a symlink)")
            if target not in seen and target.exists():
                seen.add(target)
                total += check_file_size(target, limit, "external data file", MAX_MODEL_BYTES_ENV)
                if total > limit:
                    raise UnsafeModelError(
                        f"ONNX model {model_file!r} with its external data is {total:,} bytes, over the "
                        f"{limit:,}-byte limit (set {MAX_MODEL_BYTES_ENV} to allow larger models)"
                    )

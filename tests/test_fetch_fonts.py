"""scripts/fetch_fonts.py: Fontsource packages -> TrueType training fonts, never a test family.

No network: the npm registry is replaced by tarballs built on the spot from a Debian font."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.conftest import font_path
from tests.helpers import load_script

ROOT = Path(__file__).resolve().parents[1]


def _module():
    return load_script("scripts/fetch_fonts.py", "fetch_fonts")


def _woff(family: str) -> bytes:
    """A Debian font renamed to ``family`` and saved as WOFF, as Fontsource ships them."""
    from fontTools.ttLib import TTFont

    font = TTFont(font_path())
    for rec in font["name"].names:
        if rec.nameID in (1, 16):
            rec.string = family
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _npm_tarball(name: str, family: str, styles=("400-normal", "400-italic")) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for style in styles:
            data = _woff(family)
            info = tarfile.TarInfo(f"package/files/{name}-latin-{style}.woff")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture()
def fetch(monkeypatch):
    if font_path() is None:
        pytest.skip("needs DejaVu or Liberation fonts (scripts/install_system_deps.sh)")
    mod = _module()
    tarballs = {"cormorant": _npm_tarball("cormorant", "Cormorant"),
                "cormorant-garamond": _npm_tarball("cormorant-garamond", "Cormorant Garamond")}
    monkeypatch.setattr(mod, "_tarball", lambda name, version: tarballs[name])
    monkeypatch.setattr(mod, "PACKAGES", {"cormorant": "1.0.0", "cormorant-garamond": "1.0.0"})
    return mod


def test_train_families_are_installed_as_truetype_and_test_families_are_not(fetch, tmp_path, capsys):
    from fontTools.ttLib import TTFont

    from training.synth import font_family, split_of

    assert split_of("Cormorant") == "train" and split_of("Cormorant Garamond") == "test"
    assert fetch.main(["--dest", str(tmp_path)]) == 0
    installed = sorted(p.name for p in tmp_path.glob("*.ttf"))
    assert installed == ["cormorant-latin-400-italic.ttf", "cormorant-latin-400-normal.ttf"]
    assert (tmp_path / ".skipped").read_text().split() == ["cormorant-garamond@1.0.0"]
    for p in tmp_path.glob("*.ttf"):
        assert TTFont(str(p)).flavor is None  # plain TrueType, which discovery globs for
        assert font_family(str(p)) == "Cormorant"
    out = capsys.readouterr().out
    assert "'Cormorant Garamond' hashes to the test split, skipped" in out
    # a second run finds one installed and the other recorded as skipped: it downloads nothing
    def no_download(name, version):
        raise AssertionError(f"downloaded {name} again")

    fetch._tarball = no_download
    assert fetch.main(["--dest", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ttf")) == installed


def test_batches_limits_what_is_fetched(fetch, tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "BATCHES", {"cormorant": 2, "cormorant-garamond": 1})
    assert fetch.main(["--dest", str(tmp_path), "--batches", "1"]) == 0
    assert not list(tmp_path.glob("*.ttf"))  # cormorant is batch 2; garamond is test-split
    assert fetch.main(["--dest", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("cormorant-latin-*.ttf"))) == 2


def test_a_tarball_that_does_not_match_its_checksum_is_refused(monkeypatch):
    mod = _module()
    good = b"the real tarball"
    meta = {"dist": {"tarball": "https://registry.example/x.tgz",
                     "integrity": "sha512-" + base64.b64encode(hashlib.sha512(good).digest()).decode()}}
    served = {"meta": json.dumps(meta).encode(), "tgz": good}
    monkeypatch.setattr(mod, "_get", lambda url, timeout=60.0: served["tgz" if url.endswith(".tgz") else "meta"])
    assert mod._tarball("x", "1.0.0") == good
    served["tgz"] = b"something else"
    with pytest.raises(RuntimeError, match="does not match its sha512"):
        mod._tarball("x", "1.0.0")


def test_a_failed_download_is_reported_and_the_other_families_still_install(fetch, tmp_path, monkeypatch, capsys):
    real = fetch._tarball

    def flaky(name, version):
        if name == "cormorant-garamond":
            raise OSError("connection refused")
        return real(name, version)

    monkeypatch.setattr(fetch, "_tarball", flaky)
    assert fetch.main(["--dest", str(tmp_path)]) == 1
    assert (tmp_path / "cormorant-latin-400-normal.ttf").is_file()
    assert "cormorant-garamond@1.0.0: failed: connection refused" in capsys.readouterr().err


def test_the_package_list_parses_and_names_no_test_split_family(tmp_path):
    from training.synth import split_of

    mod = _module()
    assert len(mod.PACKAGES) > 600 and set(mod.PACKAGES) == set(mod.FAMILIES)
    assert all(v[0].isdigit() for v in mod.PACKAGES.values())
    assert not [f for f in mod.FAMILIES.values() if split_of(f) == "test"]
    assert set(mod.BATCHES.values()) == {1, 2} and mod.BATCHES["cormorant"] == 1
    listed = tmp_path / "ok.txt"
    listed.write_text("a 1.0 A\n## batch 2 (more)\nb 2.0 B b\n")
    assert mod._read_list(listed) == ({"a": "1.0", "b": "2.0"}, {"a": "A", "b": "B b"}, {"a": 1, "b": 2})
    bad = tmp_path / "list.txt"
    bad.write_text("# comment\nlora 5.3.0 Lora\njust-a-name\n")
    with pytest.raises(ValueError, match="list.txt:3"):
        mod._read_list(bad)

"""The demo in a real browser (the system Chromium, driven by Playwright): what a visitor sees
after uploading an image, clicking an example and uploading a bad file.

Skipped when the Python ``playwright`` package or a Chromium binary is missing (scripts/test.sh
installs Debian's ``chromium`` when apt is available; Playwright's own browser download is not
used)."""

import os
import re
import shutil
import socket

import pytest
from PIL import Image

from tests.conftest import render_lines, render_word

sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
CHROMIUM = os.environ.get("CTC_TEST_CHROMIUM") or next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium") if p and
     os.path.isfile(p)), None)
if CHROMIUM is None:
    pytest.skip("no Chromium binary (apt-get install chromium, or set CTC_TEST_CHROMIUM)", allow_module_level=True)

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url():
    import app

    demo = app.build_demo(app.Settings())
    port = free_port()
    app.launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def page(url):
    with sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as exc:  # noqa: BLE001 - a broken browser install is a skip, not a failure
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        page.get_by_text("Read one image").first.wait_for()
        yield page
        browser.close()


def text_box(page):
    return page.locator("#text textarea")


def upload(page, path):
    page.locator("input[type=file]").first.set_input_files(str(path))


def test_first_view_is_compact_and_shows_no_result_yet(page, url):
    assert text_box(page).input_value() == ""
    assert not page.get_by_label("Confidence").first.is_visible()  # no "Confidence 0" before a reading
    assert not page.get_by_label("Beam width").first.is_visible()  # greedy: no beam width
    example = page.locator("img[src*='01_serif_word']").first
    box = example.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768  # examples above the fold on a laptop
    page.get_by_role("tab", name="API").click()
    port = url.rsplit(":", 1)[1].strip("/")
    sync_api.expect(page.get_by_text(f"127.0.0.1:{port}").first).to_be_visible()
    page.get_by_role("tab", name="Read one image").click()
    page.get_by_text("beam", exact=True).first.click()
    sync_api.expect(page.get_by_label("Beam width").first).to_be_visible()
    page.get_by_text("greedy", exact=True).first.click()
    sync_api.expect(page.get_by_label("Beam width").first).to_be_hidden()


def test_upload_reads_the_image(page, tmp_path):
    path = tmp_path / "hello.png"
    Image.fromarray(render_word("Hello", size=36)).save(path)
    upload(page, path)
    sync_api.expect(text_box(page)).to_have_value("Hello")
    confidence = page.get_by_label("Confidence").first
    sync_api.expect(confidence).to_be_visible()  # shown once there is a reading...
    sync_api.expect(confidence).to_have_value(re.compile(r"^(0\.[5-9]\d*|1(\.0*)?)$"))  # ...with its value


def test_clicking_an_example_reads_it(page):
    page.locator("img[src*='03_digits']").first.click()
    sync_api.expect(text_box(page)).to_have_value("2025")


def test_hint_for_several_lines(page, tmp_path):
    from ctc_recognizer import Recognizer

    lines = render_lines(["first line", "second one"], size=36)
    path = tmp_path / "lines.png"
    Image.fromarray(lines).save(path)
    warning = Recognizer.from_pretrained()(str(path)).warning
    assert warning, "the library gives no warning for two lines"
    upload(page, path)
    sync_api.expect(page.locator("#hint")).to_contain_text(warning)


def test_bad_upload_shows_a_clear_error_without_server_paths(page, tmp_path):
    bad = tmp_path / "fake.png"
    bad.write_text("this is not an image")
    upload(page, bad)
    toast = page.get_by_text("'fake.png' is not a readable image").first
    sync_api.expect(toast).to_be_visible()
    body = page.locator("body").inner_text()
    assert "/tmp/" not in body and "UnidentifiedImageError" not in body and "Could not preprocess" not in body
    assert text_box(page).input_value() != "2025"  # the previous result is not left next to it

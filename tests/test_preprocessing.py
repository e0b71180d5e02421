import io

import cv2
import numpy as np
import pytest
from PIL import Image

from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.errors import ImageError
from ctc_recognizer.preprocessing import preprocess, read_image
from tests.conftest import render_word

CFG = RecognizerConfig(vocab="abc")
CFG_GRAY = RecognizerConfig(vocab="abc", channels=1)
CFG_STRETCH = RecognizerConfig(vocab="abc", resize_mode="stretch")


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_keep_ratio_resizes_to_height_and_pads_right():
    img = render_word("hi")  # short word: narrower than 4:1
    p = preprocess(img, CFG)
    assert p.image.shape == (32, 128, 3) and p.image.dtype == np.uint8
    expected_w = round(img.shape[1] * 32 / img.shape[0])
    assert p.content_width == expected_w < 128
    # padding is the background colour (white here), not black
    assert (p.image[:, p.content_width:] == 255).all()
    assert p.original_size == img.shape[:2]


def test_long_word_is_squeezed_to_width():
    img = np.full((20, 400, 3), 200, np.uint8)
    p = preprocess(img, CFG)
    assert p.content_width == 128


def test_stretch_mode_ignores_aspect_ratio():
    p = preprocess(render_word("hi"), CFG_STRETCH)
    assert p.content_width == 128 and p.image.shape == (32, 128, 3)


def test_all_input_kinds_agree(tmp_path):
    img = render_word("abc")
    path = tmp_path / "w.png"
    data = png_bytes(img)
    path.write_bytes(data)
    ref = preprocess(img, CFG).image
    for source in (str(path), path, data, Image.fromarray(img)):
        np.testing.assert_array_equal(preprocess(source, CFG).image, ref)


def test_file_decoding_is_rgb_not_bgr(tmp_path):
    img = np.zeros((10, 10, 3), np.uint8)
    img[..., 0] = 255  # pure red
    path = tmp_path / "red.png"
    path.write_bytes(png_bytes(img))
    assert (read_image(path)[..., 0] == 255).all() and (read_image(path)[..., 2] == 0).all()


@pytest.mark.parametrize("convert", [
    lambda a: a[..., 0],                                      # gray (H, W)
    lambda a: a[..., :1],                                     # (H, W, 1)
    lambda a: a.astype(np.uint16) * 257,                      # 16-bit
    lambda a: a.astype(np.float32) / 255.0,                   # float 0..1
    lambda a: a.astype(np.float64),                           # float 0..255
    lambda a: np.dstack([a, np.full(a.shape[:2], 255, np.uint8)]),  # opaque RGBA
    lambda a: a.astype(np.int64),                             # other integers
])
def test_dtype_and_channel_variants_match_uint8(convert):
    img = render_word("abc")
    ref = preprocess(img, CFG).image.astype(int)
    got = preprocess(convert(img), CFG).image.astype(int)
    assert np.abs(got - ref).max() <= 1


def test_transparent_text_is_composited_on_white():
    rgba = np.zeros((30, 60, 4), np.uint8)
    rgba[10:20, 10:50, 3] = 255  # black text, transparent elsewhere
    p = preprocess(rgba, CFG)
    assert p.image[0, 0].tolist() == [255, 255, 255]
    assert p.image[16, 20].tolist() == [0, 0, 0]


def test_gray_model_gets_one_channel():
    assert preprocess(render_word("abc"), CFG_GRAY).image.shape == (32, 128, 1)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        preprocess(tmp_path / "missing.png", CFG)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        preprocess(empty, CFG)
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(ImageError, match="not a readable image"):
        preprocess(text, CFG)
    with pytest.raises(ImageError, match="not a file"):
        preprocess(tmp_path, CFG)


def _unreadable_files(tmp_path):
    good = png_bytes(render_word("word"))
    cases = {
        "fake.png": b"\x89PNG\r\n\x1a\nabcdefg",  # a PNG signature and nothing else
        "notes.png": b"this is not an image",
        "empty.png": b"",
        "cut_header.png": good[:100],
        "cut_data.png": good[: len(good) // 2],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    return cases


@pytest.mark.parametrize("as_bytes", [False, True])
def test_unreadable_file_errors_have_no_object_reprs(tmp_path, as_bytes):
    """Messages give the file as passed, its size and a reason, never a Python object repr
    like ``<_io.BytesIO object at 0x7f...>`` (issue 25.4)."""
    import re

    for name, data in _unreadable_files(tmp_path).items():
        source = (tmp_path / name).read_bytes() if as_bytes else str(tmp_path / name)
        with pytest.raises(ImageError) as info:
            preprocess(source, CFG)
        message = str(info.value)
        assert not re.search(r"0x[0-9a-fA-F]{4,}", message), message
        assert "<_io" not in message and "object at" not in message, message
        assert f"{len(data)} bytes" in message, message
        if not as_bytes:
            assert repr(str(tmp_path / name)) in message, message
    with pytest.raises(ImageError, match=r"starts like a PNG file but its header is damaged"):
        preprocess(tmp_path / "fake.png", CFG)
    with pytest.raises(ImageError, match=r"not in an image format"):
        preprocess(tmp_path / "notes.png", CFG)


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_truncated_files(tmp_path, ext):
    img = (np.random.default_rng(0).random((64, 200, 3)) * 255).astype(np.uint8)
    ok, enc = cv2.imencode(ext, img)
    data = enc.tobytes()
    path = tmp_path / f"cut{ext}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated"):
        preprocess(path, CFG)


def test_tiny_and_huge_images(tmp_path):
    with pytest.raises(ImageError, match="0x0"):
        preprocess(np.zeros((0, 0, 3), np.uint8), CFG)
    with pytest.raises(ImageError, match="1x1"):
        preprocess(np.zeros((1, 1, 3), np.uint8), CFG)
    one = tmp_path / "one.png"
    one.write_bytes(png_bytes(np.zeros((1, 1, 3), np.uint8)))
    with pytest.raises(ImageError, match="1x1"):
        preprocess(one, CFG)
    # a 20000x20000 PNG is small on disk; it is refused from its header, before decoding
    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 20000)).save(huge)
    with pytest.raises(ImageError, match="400 MP, more than the 50 MP limit"):
        preprocess(huge, CFG)
    with pytest.raises(ImageError, match="20000x20000 pixels .400 MP., more than the 50 MP limit"):
        preprocess(np.zeros((20000, 20000), np.uint8), CFG)
    # a 9000x9000 PNG (81 MP) is under Pillow's own bomb limit: our limit still applies
    big = tmp_path / "big.png"
    Image.new("1", (9000, 9000)).save(big)
    with pytest.raises(ImageError, match="9000x9000 pixels .81 MP., more than the 50 MP limit"):
        preprocess(big, CFG)


@pytest.mark.parametrize("array, message", [
    (np.array(["a", "b"]), "dtype"),
    (np.zeros((10, 10), np.complex64), "dtype"),
    (np.zeros((10, 10), object), "dtype"),
    (np.zeros(10, np.uint8), "shape"),
    (np.zeros((2, 10, 10, 3), np.uint8), "shape"),
    (np.zeros((10, 10, 5), np.uint8), "shape"),
    (np.full((10, 10), np.nan, np.float32), "NaN"),
    (np.full((10, 10), np.inf), "NaN or infinite"),
    (np.full((10, 10), -1.0), "negative"),
    (np.full((10, 10), 70000, np.int64), "0..65535"),
])
def test_bad_arrays(array, message):
    with pytest.raises(ImageError, match=message):
        preprocess(array, CFG)


def test_unsupported_type():
    with pytest.raises(ImageError, match="unsupported image type"):
        preprocess(12345, CFG)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    from PIL import ImageOps

    img = np.zeros((20, 60, 3), np.uint8)
    img[:5, :10] = 255
    exif = Image.Exif()
    exif[274] = orientation
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", exif=exif, quality=100)
    want = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    got = read_image(buf.getvalue())
    assert got.shape == want.shape and np.abs(got.astype(int) - want).max() <= 1


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_trailing_data_after_the_image_is_not_truncation(fmt):
    buf = io.BytesIO()
    Image.fromarray(render_word("abc")).save(buf, format=fmt)
    data = buf.getvalue() + b"\x00TRAILER" * 40  # e.g. a phone's motion-photo trailer
    assert preprocess(data, CFG).image.shape == (32, 128, 3)


def test_long_crops_are_fitted_to_the_long_width():
    import dataclasses

    cfg = dataclasses.replace(CFG, long_crop_width=192, long_crop_threshold=200)
    short, long = render_word("word"), render_word("a rather long line of words")
    assert short.shape[1] * 32 / short.shape[0] <= 200 < long.shape[1] * 32 / long.shape[0]
    assert preprocess(short, cfg).image.shape == (32, 128, 3)
    p = preprocess(long, cfg)
    assert p.image.shape == (32, 192, 3) and p.content_width == 192
    assert preprocess(long, CFG).image.shape == (32, 128, 3)  # unset: squeezed into the width


def test_long_lines_are_read_at_a_width_that_follows_their_length():
    import dataclasses

    from ctc_recognizer.preprocessing import LINE_SQUEEZE, LINE_WIDTH_STEP, MAX_LINE_WIDTH, input_width

    cfg = dataclasses.replace(CFG, long_crop_width=192, long_crop_threshold=200)
    # up to the threshold: the model width; a little over it: long_crop_width, as before
    assert input_width(cfg, 32, 200) == 128
    assert input_width(cfg, 64, 400) == 128
    assert input_width(cfg, 32, 201) == 192 == input_width(cfg, 32, 320)
    # a longer line: LINE_SQUEEZE of its width at the model height, in LINE_WIDTH_STEP steps
    assert input_width(cfg, 64, 1600) == LINE_WIDTH_STEP * round(800 * LINE_SQUEEZE / LINE_WIDTH_STEP) == 480
    assert input_width(cfg, 32, 100_000) == MAX_LINE_WIDTH
    assert input_width(CFG, 32, 1000) == 128  # no long-crop setting: squeezed into the width
    line = np.full((40, 1000, 3), 255, np.uint8)
    p = preprocess(line, cfg)
    assert p.image.shape == (32, 480, 3) and p.content_width == 480

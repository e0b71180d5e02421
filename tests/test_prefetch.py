"""Reading a list of files with worker threads (issue 25.9): same results, in order, the same
error for the first bad image, bounded work ahead, no work left running after an error, PIL
images (loaded in the calling thread, never by two workers at once), the worker count."""

from __future__ import annotations

import io
import os
import threading

import numpy as np
import pytest
from PIL import Image

from ctc_recognizer import ImageError
from ctc_recognizer import prefetch
from ctc_recognizer.prefetch import chunked_map, default_workers
from tests.conftest import TINY_WORDS, render_word


def test_chunked_map_keeps_order_and_runs_in_worker_threads():
    threads = set()

    def square(x):
        threads.add(threading.current_thread().name)
        return x * x

    out = list(chunked_map(square, list(range(23)), chunk_size=5, num_workers=3))
    assert out == [[x * x for x in range(i, min(i + 5, 23))] for i in range(0, 23, 5)]
    assert threads and all(name.startswith("ctc-recognizer-prefetch") for name in threads)
    threads.clear()
    assert list(chunked_map(square, [1, 2, 3], chunk_size=2, num_workers=0)) == [[1, 4], [9]]
    assert threads == {threading.current_thread().name}
    assert 1 <= default_workers() <= 4


def test_chunked_map_works_ahead_a_bounded_number_of_chunks():
    started = []

    def work(x):
        started.append(x)
        return x

    chunks = chunked_map(work, list(range(100)), chunk_size=10, num_workers=2, prefetch_chunks=2)
    first = next(chunks)
    assert first == list(range(10))
    # while the caller holds chunk 0, at most chunks 1 and 2 (and the submission of 3) exist
    assert max(started) < 40
    assert sum(len(c) for c in chunks) == 90
    chunks.close()


def test_chunked_map_uses_a_given_pool_and_leaves_it_open():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        assert list(chunked_map(str, [1, 2, 3], chunk_size=2, pool=pool)) == [["1", "2"], ["3"]]
        assert pool.submit(len, "abc").result() == 3


def test_chunked_map_raises_the_first_failure_in_order():
    def fail_on_odd(x):
        if x % 2:
            raise ValueError(f"bad {x}")
        return x

    with pytest.raises(ValueError, match="bad 1"):
        list(chunked_map(fail_on_odd, list(range(40)), chunk_size=4, num_workers=4))
    with pytest.raises(ValueError, match="chunk_size"):
        next(chunked_map(fail_on_odd, [0], chunk_size=0, num_workers=1))


def test_threaded_reading_of_files_equals_sequential(recognizer, tmp_path):
    paths = []
    for i, word in enumerate(TINY_WORDS * 2):
        path = tmp_path / f"{i:03d}.png"
        Image.fromarray(render_word(word, size=22 + i % 12)).save(path)
        paths.append(str(path))
    sequential = recognizer(paths, batch_size=8, num_workers=0)
    threaded = recognizer(paths, batch_size=8, num_workers=3)
    assert threaded == sequential  # same texts, confidences, boxes, in input order
    assert [recognizer(p, num_workers=0) for p in paths[:3]] == threaded[:3]


def test_threaded_reading_raises_the_error_of_the_first_bad_file(recognizer, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(render_word("cat")).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    missing = tmp_path / "missing.png"
    paths = [str(good)] * 9 + [str(bad)] + [str(good)] * 5 + [str(missing)]
    errors = []
    for workers in (0, 4):
        with pytest.raises(ImageError) as info:
            recognizer(paths, batch_size=4, num_workers=workers)
        errors.append(str(info.value))
    assert errors[0] == errors[1] and "bad.png" in errors[0]
    with pytest.raises(ValueError, match="num_workers"):
        recognizer(paths, num_workers=-1)
    assert recognizer([np.asarray(render_word("dog"))], num_workers=2)[0].text == "dog"
    # an error of the post-processor (run in the worker threads too) reaches the caller
    with pytest.raises(ValueError, match="beam_width"):
        recognizer([str(good)] * 20, batch_size=4, decoder="beam", beam_width=0, num_workers=2)


def test_chunked_map_cancels_the_queued_work_after_a_failure():
    started = []

    def work(x):
        started.append(x)
        if x == 5:
            raise ValueError("bad 5")
        return x

    chunks = chunked_map(work, list(range(1000)), chunk_size=4, num_workers=2, prefetch_chunks=2)
    assert next(chunks) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="bad 5"):
        next(chunks)
    # the pool was shut down with the queued work cancelled: only the chunks submitted ahead of
    # the failing one ever started, and no worker thread is left running
    assert len(started) <= 4 * 4 and max(started) < 16
    assert not [t for t in threading.enumerate() if t.name.startswith(prefetch.THREAD_NAME)]
    assert len(started) == len(set(started))


def test_chunked_map_runs_in_caller_in_the_calling_thread_and_keeps_its_errors_in_order():
    caller = threading.current_thread().name
    seen = []

    def load(x):
        seen.append(threading.current_thread().name)
        if x == 7:
            raise KeyError("load 7")
        return x * 10

    def fail_on_3(x):
        if x == 30:
            raise ValueError("bad 3")
        return x

    ok = list(chunked_map(lambda x: x + 1, [0, 1, 2, 3, 4], chunk_size=2, num_workers=2, in_caller=load))
    assert ok == [[1, 11], [21, 31], [41]] and set(seen) == {caller}
    # an error of fn for item 3 comes before the in_caller error of item 7, with or without threads
    for workers in (0, 3):
        with pytest.raises(ValueError, match="bad 3"):
            list(chunked_map(fail_on_3, list(range(12)), chunk_size=4, num_workers=workers, in_caller=load))
        with pytest.raises(KeyError, match="load 7"):
            list(chunked_map(lambda x: x, list(range(12)), chunk_size=4, num_workers=workers, in_caller=load))


def test_worker_count_follows_cpu_affinity_and_refuses_bools(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert prefetch.available_cpus() == 1 and default_workers() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert default_workers() == prefetch.MAX_DEFAULT_WORKERS
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # macOS / Windows
    assert prefetch.available_cpus() == 64
    for bad in (True, False, -1, 2.0, "2"):
        with pytest.raises(ValueError, match="num_workers must be an integer >= 0"):
            prefetch.check_workers(bad)
        with pytest.raises(ValueError, match="num_workers"):
            list(chunked_map(str, [1, 2], chunk_size=1, num_workers=bad))
    with pytest.raises(ValueError, match="chunk_size"):
        list(chunked_map(str, [1, 2], chunk_size=True))


def test_recognizer_refuses_bool_and_negative_worker_counts(recognizer):
    image = render_word("cat")
    for bad in (True, False, -2, 1.5):
        with pytest.raises(ValueError, match="num_workers must be an integer >= 0"):
            recognizer([image, image], num_workers=bad)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        recognizer([image, image], batch_size=True)


def test_a_repeated_lazily_loaded_pil_image_reads_the_same_with_threads(recognizer):
    """The same Image.open() object many times in a list: two worker threads loading it at once
    used to crash inside Pillow (a bare AssertionError in PngImagePlugin.load_end)."""
    buf = io.BytesIO()
    Image.fromarray(render_word("house", size=30)).save(buf, "PNG")
    data = buf.getvalue()
    expected = recognizer([Image.open(io.BytesIO(data))] * 16, batch_size=4, num_workers=0)
    assert expected[0].text == "house" and len(set(expected)) == 1
    for _ in range(25):  # it failed in about half of these runs
        assert recognizer([Image.open(io.BytesIO(data))] * 16, batch_size=4, num_workers=4) == expected


def test_mixed_inputs_read_the_same_with_and_without_threads(recognizer, tmp_path):
    images = []
    for i, word in enumerate(TINY_WORDS):
        array = render_word(word, size=20 + i % 10)
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, "PNG")
        path = tmp_path / f"{i}.png"
        path.write_bytes(buf.getvalue())
        images.append([str(path), buf.getvalue(), array, Image.open(io.BytesIO(buf.getvalue())),
                       Image.fromarray(array).convert("L")][i % 5])
    sequential = recognizer(images, batch_size=3, num_workers=0)
    assert [p.text for p in sequential] == TINY_WORDS
    assert recognizer(images, batch_size=3, num_workers=3) == sequential


def test_a_bad_pil_image_raises_in_input_order_with_threads(recognizer, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    good = Image.fromarray(render_word("cat"))
    tiny = Image.new("RGB", (1, 1))  # refused while loading in the calling thread
    for workers in (0, 2):
        # the bad file comes first in input order, though the tiny PIL image fails earlier
        with pytest.raises(ImageError, match="bad.png"):
            recognizer([good] * 5 + [str(bad)] + [tiny] + [good] * 5, batch_size=4, num_workers=workers)
        with pytest.raises(ImageError, match="PIL image is 1x1 pixels"):
            recognizer([good] * 5 + [tiny] + [str(bad)], batch_size=4, num_workers=workers)

"""Reading a list of files with worker threads (issue 25.9): same results, in order, the same
error for the first bad image, bounded work ahead."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from ctc_recognizer import ImageError
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

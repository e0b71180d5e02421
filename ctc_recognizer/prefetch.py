"""Overlap image loading with inference: worker threads decode and preprocess the next chunks
of a list while the caller runs the model on the current one (and
:class:`~ctc_recognizer.recognizer.Recognizer` post-processes in the same threads).

Decoding (OpenCV / Pillow) and resizing release the GIL, and so does ONNX Runtime, so threads
are enough; memory stays bounded because only ``prefetch_chunks`` chunks are worked on ahead.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Chunks prepared ahead of the one being read.
PREFETCH_CHUNKS = 2
#: Name prefix of the worker threads.
THREAD_NAME = "ctc-recognizer-prefetch"
#: Most worker threads the default uses.
MAX_DEFAULT_WORKERS = 4


def available_cpus() -> int:
    """CPUs this process may run on: its CPU affinity (which container limits such as
    ``docker --cpuset-cpus`` and ``taskset`` set) where the platform has it, else the CPU count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """Worker threads used when the caller does not say: the CPUs available to this process
    (:func:`available_cpus`), at most :data:`MAX_DEFAULT_WORKERS`."""
    return min(MAX_DEFAULT_WORKERS, available_cpus())


def check_workers(num_workers: Any) -> int:
    """``num_workers`` as an int, or ValueError naming the problem (bools, negatives and
    non-integers are refused: ``True`` is an int to Python but not a thread count)."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be an integer >= 0 (0: no worker threads), got {num_workers!r}")
    return num_workers


def _failed(exc: BaseException) -> Future:
    future: Future = Future()
    future.set_exception(exc)
    return future


def chunked_map(fn: Callable[[T], R], items: Sequence[T], chunk_size: int, num_workers: int = 0,
                prefetch_chunks: int = PREFETCH_CHUNKS,
                pool: ThreadPoolExecutor | None = None,
                in_caller: Callable[[T], T] | None = None) -> Iterator[list[R]]:
    """Yield ``[fn(x) for x in chunk]`` for consecutive chunks of ``items``, in order.

    With worker threads (``num_workers`` > 0, or a ready ``pool``) and more than one item, the
    workers compute the next ``prefetch_chunks`` chunks while the caller handles the current
    one. If ``fn`` raises, the exception of the first failing item (in order) is raised when
    its chunk is reached, exactly as without threads, and the work still queued is cancelled.

    ``in_caller``, if given, is applied to each item in the calling thread as its chunk is
    handed to the workers, for work that must not run in two threads at once (loading a lazy
    PIL image); its errors, too, are raised in input order when the item's chunk is reached.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    check_workers(num_workers)
    chunks = (items[i:i + chunk_size] for i in range(0, len(items), chunk_size))
    if (pool is None and num_workers == 0) or len(items) <= 1:
        for chunk in chunks:
            yield [fn(in_caller(x) if in_caller else x) for x in chunk]
        return

    def submit(x: T) -> Future:
        if in_caller is not None:
            try:
                x = in_caller(x)
            except Exception as exc:  # raised when this item's turn comes, as without threads
                return _failed(exc)
        return pool.submit(fn, x)

    own = pool is None
    if own:
        pool = ThreadPoolExecutor(max_workers=num_workers, thread_name_prefix=THREAD_NAME)
    pending: deque[list[Future]] = deque()
    try:
        for chunk in chunks:
            pending.append([submit(x) for x in chunk])
            if len(pending) > prefetch_chunks:
                yield [f.result() for f in pending.popleft()]
        while pending:
            yield [f.result() for f in pending.popleft()]
    finally:
        for futures in pending:
            for f in futures:
                f.cancel()
        if own:
            pool.shutdown(wait=True, cancel_futures=True)

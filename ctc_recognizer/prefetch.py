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
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Chunks prepared ahead of the one being read.
PREFETCH_CHUNKS = 2
#: Name prefix of the worker threads.
THREAD_NAME = "ctc-recognizer-prefetch"
#: Most worker threads the default uses.
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Worker threads used when the caller does not say: the CPU count, at most
    :data:`MAX_DEFAULT_WORKERS`."""
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


def chunked_map(fn: Callable[[T], R], items: Sequence[T], chunk_size: int, num_workers: int = 0,
                prefetch_chunks: int = PREFETCH_CHUNKS,
                pool: ThreadPoolExecutor | None = None) -> Iterator[list[R]]:
    """Yield ``[fn(x) for x in chunk]`` for consecutive chunks of ``items``, in order.

    With worker threads (``num_workers`` > 0, or a ready ``pool``) and more than one item, the
    workers compute the next ``prefetch_chunks`` chunks while the caller handles the current
    one. If ``fn`` raises, the exception of the first failing item (in order) is raised when
    its chunk is reached, exactly as without threads, and the work still queued is cancelled.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    chunks = (items[i:i + chunk_size] for i in range(0, len(items), chunk_size))
    if (pool is None and num_workers <= 0) or len(items) <= 1:
        for chunk in chunks:
            yield [fn(x) for x in chunk]
        return
    own = pool is None
    if own:
        pool = ThreadPoolExecutor(max_workers=num_workers, thread_name_prefix=THREAD_NAME)
    pending: deque[list[Future]] = deque()
    try:
        for chunk in chunks:
            pending.append([pool.submit(fn, x) for x in chunk])
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

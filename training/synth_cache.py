"""Rendered synthetic sources at model size, cached on disk: ``n`` words of a
:class:`training.synth.RenderSpec`, rendered once by a pool of worker processes and kept in an
``.npz`` file named by :func:`training.synth.render_cache_key` (the spec, the fonts, the model
geometry and the generator's source), so that any change to them renders anew."""

from __future__ import annotations

import io
import logging
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np

from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.files import atomic_write_bytes
from ctc_recognizer.preprocessing import fit_to_model

from .data import ArraySampleSet

logger = logging.getLogger(__name__)


def _render_chunk(job) -> tuple[np.ndarray, list[str]]:
    spec, start, stop, cfg_dict = job
    from .synth import WordRenderer

    cfg = RecognizerConfig.from_dict(cfg_dict)
    renderer = WordRenderer(spec)
    images = np.empty((stop - start, cfg.height, cfg.width, cfg.channels), np.uint8)
    texts = []
    for k, i in enumerate(range(start, stop)):
        img, text = renderer.render(i)
        images[k] = fit_to_model(img, cfg)[0]
        texts.append(text)
    return images, texts


def synthetic_set(spec, n: int, config: RecognizerConfig, cache_dir: str | os.PathLike | None = None,
                  workers: int | None = None, source: str | None = None) -> ArraySampleSet:
    """``n`` rendered words of a :class:`training.synth.RenderSpec` (its vocabulary must be the
    model's), at model size, named ``<source>-<split>`` (``source``: the ``--data`` source they
    are, e.g. ``synthetic-curved``; default ``synthetic`` or ``synthetic-clean`` by the spec's
    ``augment``); cached on disk under a hash of the spec, the fonts, the model geometry and
    the generator's source (:func:`training.synth.render_cache_key`)."""
    from .synth import render_cache_key

    if spec.vocab != config.vocab:
        raise ValueError("the render spec's vocabulary is not the model's")
    geometry = [config.height, config.width, config.channels, config.resize_mode]
    digest = render_cache_key(spec, n=n, geometry=geometry)[:16]
    cache = Path(cache_dir or os.environ.get("CTC_RECOGNIZER_CACHE", "~/.cache/ctc_recognizer")).expanduser()
    path = cache / f"synth-{spec.split}-{n}-{digest}.npz"
    name = f"{source or ('synthetic' if spec.augment else 'synthetic-clean')}-{spec.split}"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return ArraySampleSet(data["images"], [str(t) for t in data["texts"]], name=name)
    workers = workers or min(os.cpu_count() or 1, 8)
    chunk = max(1, min(2000, -(-n // workers)))
    jobs = [(spec, s, min(n, s + chunk), config.to_dict()) for s in range(0, n, chunk)]
    logger.info("rendering %d synthetic %s words with %d worker(s)...", n, spec.split, workers)
    if workers > 1 and len(jobs) > 1:
        with mp.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_render_chunk, jobs)
    else:
        parts = [_render_chunk(j) for j in jobs]
    images = np.concatenate([p[0] for p in parts])
    texts = [t for p in parts for t in p[1]]
    buf = io.BytesIO()
    np.savez(buf, images=images, texts=np.array(texts))
    atomic_write_bytes(path, buf.getvalue())
    return ArraySampleSet(images, texts, name=name)
